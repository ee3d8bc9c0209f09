"""lynkr web search: runs Anthropic's web search server tool against a configured backend (SearXNG, Brave, Tavily)."""
