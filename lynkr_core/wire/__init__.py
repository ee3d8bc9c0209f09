"""Wire types: the Anthropic Messages API (and, later, OpenAI chat completions)."""
