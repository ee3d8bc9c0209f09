"""The Databricks model serving dialect: invocations paths and `error_code` bodies."""

from __future__ import annotations

import re
import uuid
from typing import Any

from aiohttp import web

from lynkr_core.testing.fake_openai.bare import _Bare
from lynkr_core.testing.fake_openai.dialect import _Error
from lynkr_core.testing.fake_openai.turn import _Route, _Turn
from lynkr_core.testing.scripted import json_response

DATABRICKS_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class _Databricks(_Bare):
    """Databricks model serving: `/serving-endpoints/{name}/invocations`, `error_code` bodies."""

    name = "databricks"
    default_model = "databricks-claude-sonnet-4"

    _INVOCATIONS = re.compile(r"/serving-endpoints/([^/]+)/invocations")

    def route(self, method: str, path: str, query: dict[str, str]) -> _Route | web.Response | None:
        """The invocations path, or the OpenAI-client path with the endpoint as `model`."""
        if method != "POST":
            return None
        match = self._INVOCATIONS.fullmatch(path)
        if match:
            return _Route("chat", match[1])
        if path == "/serving-endpoints/chat/completions":
            return _Route("chat", endpoint_in_body=True)
        return None

    def not_found(self, method: str, path: str) -> web.Response:
        """Databricks' answer to an unknown API path."""
        body = {
            "error_code": "ENDPOINT_NOT_FOUND",
            "message": f"No API found for '{method} {path}'",
        }
        return json_response(404, body)

    def unauthorized(self, headers: dict[str, str]) -> web.Response:
        """Databricks' 401."""
        if "authorization" not in headers:
            message = "Credential was not sent or was of an unsupported type for this API."
        else:
            message = "Invalid access token."
        return self.error(401, message)

    def body_problem(self, body: Any) -> web.Response | None:
        """JSON with `messages` is required."""
        if not isinstance(body, dict):
            message = "Invalid JSON in request body."
            return self.error(400, message, code="INVALID_PARAMETER_VALUE")
        if not isinstance(body.get("messages"), list):
            return self.error(400, "Missing required field: messages")
        return None

    def endpoint_problem(self, endpoint: str | None) -> web.Response | None:
        """RESOURCE_DOES_NOT_EXIST for any endpoint but the configured one."""
        if self.deployment is None or endpoint == self.deployment:
            return None
        message = f"Endpoint with name '{endpoint}' does not exist."
        return self.error(404, message)

    def envelope(self, error: _Error) -> dict[str, Any]:
        """`{"error_code": "...", "message": "..."}`."""
        code = error.code
        if code is None:
            default = "INTERNAL_ERROR" if error.status >= 500 else "BAD_REQUEST"
            code = DATABRICKS_ERROR_CODES.get(error.status, default)
        return {"error_code": str(code), "message": error.message}

    def headers(self) -> dict[str, str]:
        """Databricks' request id header."""
        return {"x-request-id": str(uuid.uuid4())}

    def completion_id(self) -> str:
        """Databricks completion ids."""
        return "chatcmpl_" + str(uuid.uuid4())

    def head(self, turn: _Turn, kind: str) -> dict[str, Any]:
        """No service tier or fingerprint."""
        return {"id": turn.id, "object": kind, "created": turn.created, "model": turn.model}
