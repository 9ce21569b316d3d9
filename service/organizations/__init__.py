"""Organisations and their profiles."""
