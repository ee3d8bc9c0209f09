"""``previous_response_id``: the conversation of an earlier response, from the session store.

A response's id is its exchange's request id with ``resp_`` for ``req_``; the
session store (``SessionStore.exchange``) gives back that exchange's request
and answer. Unknown ids, a store that keeps no content, or no store at all are a
404 in OpenAI's shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from lynkr_core.openai_api.errors import OpenAIError
from lynkr_core.stores import SessionStore
from lynkr_core.wire.anthropic import Message

RESPONSE_PREFIX = "resp_"
REQUEST_PREFIX = "req_"


def response_id_for(request_id: str) -> str:
    """The id of the response answered by the request ``request_id``."""
    return RESPONSE_PREFIX + request_id.removeprefix(REQUEST_PREFIX)


@dataclass(frozen=True, slots=True)
class PreviousTurns:
    """An earlier response's conversation (its request's turns and its answer) and session."""

    messages: list[Message]
    session_id: str


async def previous_turns(store: SessionStore | None, response_id: str) -> PreviousTurns:
    """The conversation ``response_id`` ended; ``OpenAIError`` 404 when it cannot be found."""

    def not_found(why: str) -> OpenAIError:
        return OpenAIError(f"Previous response with id '{response_id}' not found: {why}", status=404,
                           param="previous_response_id", code="previous_response_not_found")

    if store is None:
        raise not_found("no session store is installed (install lynkr-sessions to keep responses)")
    if not response_id.startswith(RESPONSE_PREFIX):
        raise not_found("not a lynkr response id")
    try:
        stored = await store.exchange(REQUEST_PREFIX + response_id.removeprefix(RESPONSE_PREFIX))
    except NotImplementedError:
        raise not_found(f"the session store {store.name!r} cannot look responses up") from None
    if stored is None:
        raise not_found("no such response is stored")
    if stored.request is None or stored.response is None:
        raise not_found("it was stored without its content")
    answer = Message(role="assistant", content=list(stored.response.content))
    return PreviousTurns([*stored.request.messages, answer], stored.session_id)
