"""lynkr MCP: Model Context Protocol servers as lynkr tools, on the official mcp SDK."""
