"""Anthropic's versioned tools for a target that cannot take them: the client's error.

An OpenAI-format upstream cannot run Anthropic's server tools (``web_search_20250305``,
``web_fetch_*``, ``code_execution_*``...) nor knows the tools Anthropic defines for the
client (``bash_20250124``, ``text_editor_*``...). Dropping one would leave the model
answering without it, as if it had worked, so the request is refused with a 400 that
says what to do instead.

lynkr-web-search, when it runs the searches, puts a function in place of the web search
tool before the request is translated (an interceptor), so the refusal reaches a client
only when that plugin is not installed or not enabled.
"""

from __future__ import annotations

from lynkr_core.errors import InvalidRequest
from lynkr_core.wire import anthropic

#: The ``type`` prefix of every version of Anthropic's web search tool.
WEB_SEARCH_PREFIX = "web_search_"

WEB_SEARCH_HELP = (
    "To let lynkr run the searches, install and enable the lynkr-web-search plugin "
    "(pip install 'lynkr-gateway[web-search]', and leave it out of LYNKR_DISABLE_PLUGINS; "
    "in LYNKR_PLUGINS when that list is set) and set WEB_SEARCH_ENDPOINT to a SearXNG "
    "/search URL; or route this model to an Anthropic-format provider."
)


def server_tool_refused(tool: anthropic.ServerTool) -> InvalidRequest:
    """The 400 a request carrying ``tool`` gets from a target that cannot run it."""
    if tool.type.startswith(WEB_SEARCH_PREFIX):
        return InvalidRequest(
            f"tools: {tool.name!r} ({tool.type}) is Anthropic's web search tool, which this "
            f"model's provider cannot run. {WEB_SEARCH_HELP}"
        )
    return InvalidRequest(
        f"tools: {tool.name!r} ({tool.type}) is one of Anthropic's versioned tools, which this "
        "model's provider cannot take: remove it from the request, or route this model to an "
        "Anthropic-format provider."
    )
