"""Region figures: organisations, matching and the opportunity pipeline per NUTS 3 region."""
