"""The preparer that restores a session's hidden server-mode tool turns into its history.

Active when the request will run in server mode (``TOOL_EXECUTION_MODE=server`` and
the client declares tools, as lynkr's tool offer requires: a request with
``tool_use`` blocks must declare tools), has a session id and an answer in its
history, and the session store is this plugin's. It runs first among the preparers
(``tryfirst``), so the history it reads is the client's own.
"""

from __future__ import annotations

import structlog
from msgspec import UNSET

from lynkr_core import RequestContext, RequestPreparer, Services, anthropic
from lynkr_sessions.config import PLUGIN_NAME, SessionsSettings
from lynkr_sessions.restore import restore
from lynkr_sessions.store import SqliteSessionStore

log = structlog.get_logger(PLUGIN_NAME)

#: The purposes whose requests go upstream as a conversation (``count_tokens`` counts the same).
PURPOSES = frozenset({"messages", "count_tokens"})


class ToolTurnRestorer(RequestPreparer):
    """Puts the tool calls and results lynkr ran (and hid) on earlier turns of the session
    back where they happened, bounded by ``SESSION_RESTORE_MAX_BYTES``."""

    name = "sessions-restore"

    def __init__(self, config: SessionsSettings, server_mode: bool) -> None:
        self.config = config
        self.server_mode = server_mode
        self.store: SqliteSessionStore | None = None

    def start(self, services: Services) -> None:
        """Find the session store this plugin registered (none: nothing to restore from)."""
        store = services.sessions
        self.store = store if isinstance(store, SqliteSessionStore) else None

    def applies(self, request: anthropic.MessagesRequest, context: RequestContext) -> bool:
        """Whether ``request`` runs in server mode with a session (and tools of the client's)."""
        if self.store is None or not self.server_mode or context.session_id is None:
            return False
        if context.purpose not in PURPOSES or request.tools is UNSET or not request.tools:
            return False
        return not isinstance(request.tool_choice_config(), anthropic.ToolChoiceNone)

    async def prepare(self, request: anthropic.MessagesRequest,
                      context: RequestContext) -> anthropic.MessagesRequest | None:
        """``request`` with the session's hidden tool turns put back, or ``None`` (unchanged)."""
        if not self.applies(request, context):
            return None
        answered = [i for i, message in enumerate(request.messages) if message.role == "assistant"]
        if not answered:
            return None
        assert self.store is not None and context.session_id is not None
        try:
            session = await self.store.hidden_turns(context.session_id, answered[-1] + 1)
        except Exception:
            context.log.exception("sessions_restore_failed")
            return None
        if not session:
            return None
        messages, restored = restore(request.messages, session.at, self.config.restore_max_bytes)
        if not restored:
            return None
        context.state[PLUGIN_NAME] = {"restored_exchanges": restored}
        context.log.debug("sessions_restored", exchanges=restored, messages=len(messages))
        return request.replace(messages=messages)
