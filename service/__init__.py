"""The partnermatch web service: HTTP API, persistence and the loaded engine."""
