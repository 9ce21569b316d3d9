"""Bulk import of organisations and profiles (CSV, JSON Lines, EEN) as background jobs."""
