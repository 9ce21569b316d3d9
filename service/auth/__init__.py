"""Access control: API keys, roles and regions, rate limits, CORS, audit."""
