"""Decoding a client's JSON body into a msgspec Struct, with errors that name the place."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from lynkr_core.errors import InvalidRequest

T = TypeVar("T")


def decode_body(body: bytes, decoder: msgspec.json.Decoder[Any]) -> Any:
    """``body`` decoded by ``decoder``; ``InvalidRequest`` (400) saying what is wrong and where."""
    if not body.strip():
        raise InvalidRequest("request body is empty; expected a JSON object")
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        text, _, where = str(exc).rpartition(" - at ")
        if not text:
            raise InvalidRequest(str(exc)) from None
        raise InvalidRequest(f"{where.strip('`').removeprefix('$.')}: {text}") from None
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"request body is not valid UTF-8 (byte {exc.start} of a string)") from None
    except RecursionError:
        raise InvalidRequest("request body is nested too deeply") from None
