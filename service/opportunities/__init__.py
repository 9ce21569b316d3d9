"""Opportunities: leads advisors follow up through a pipeline, with their history."""
