"""Administration: API keys, the audit trail, erasure of personal data."""
