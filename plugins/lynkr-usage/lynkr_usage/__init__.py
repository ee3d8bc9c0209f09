"""lynkr usage: usage and cost per key, session and model, budgets and rate limits per API key."""
