"""Alembic migrations: the only place the database schema changes."""
