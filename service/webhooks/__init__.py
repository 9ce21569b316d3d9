"""Webhooks: signed event deliveries to partner systems, retried and logged."""
