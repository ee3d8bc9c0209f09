"""The Azure OpenAI dialect: deployment paths, `api-key`, string error codes and
content filter results.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from aiohttp import web

from lynkr_core.testing.fake_openai.dialect import _Dialect, _Error
from lynkr_core.testing.fake_openai.frames import data_frame
from lynkr_core.testing.fake_openai.replies import ErrorReply
from lynkr_core.testing.fake_openai.turn import _Route, _Turn
from lynkr_core.testing.scripted import json_response

_FILTER_CATEGORIES = ("hate", "self_harm", "sexual", "violence")


def _azure_filter(filtered: bool = False) -> dict[str, Any]:
    """Azure's per-choice `content_filter_results` (violence marked when `filtered`)."""
    results = {name: {"filtered": False, "severity": "safe"} for name in _FILTER_CATEGORIES}
    if filtered:
        results["violence"] = {"filtered": True, "severity": "high"}
    return results


def _azure_prompt_filter() -> list[dict[str, Any]]:
    """Azure's `prompt_filter_results`."""
    results: dict[str, Any] = _azure_filter()
    results["jailbreak"] = {"filtered": False, "detected": False}
    return [{"prompt_index": 0, "content_filter_results": results}]


class _Azure(_Dialect):
    """Azure OpenAI: deployment paths, `api-key`, string error codes, content filter results."""

    name = "azure"
    default_model = "gpt-4o-2024-11-20"

    _DEPLOYMENT = re.compile(r"/openai/deployments/([^/]+)/chat/completions")

    def route(self, method: str, path: str, query: dict[str, str]) -> _Route | web.Response | None:
        """Deployment-scoped path (api-version required) or the v1 GA path."""
        match = self._DEPLOYMENT.fullmatch(path)
        if match and method == "POST":
            if "api-version" not in query:
                return self._resource_not_found()
            return _Route("chat", match[1])
        if method == "POST" and path == "/openai/v1/chat/completions":
            return _Route("chat", endpoint_in_body=True)
        return None

    def _resource_not_found(self) -> web.Response:
        """Azure's bare 404."""
        return json_response(404, {"error": {"code": "404", "message": "Resource not found"}})

    def not_found(self, method: str, path: str) -> web.Response:
        """Unknown routes get Azure's bare 404."""
        return self._resource_not_found()

    def authorized(self, headers: dict[str, str]) -> bool:
        """`api-key: <key>`, or `Authorization: Bearer <key>` (as Entra tokens are sent)."""
        if self.api_key is None:
            return True
        return self.api_key in (
            headers.get("api-key"),
            headers.get("authorization", "").removeprefix("Bearer "),
        )

    def unauthorized(self, headers: dict[str, str]) -> web.Response:
        """Azure's 401."""
        message = (
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
            "to provide a valid key for an active subscription and use a correct regional "
            "API endpoint for your resource."
        )
        return json_response(401, {"error": {"code": "401", "message": message}})

    def body_problem(self, body: Any) -> web.Response | None:
        """Azure requires JSON with `messages` (the model is the deployment)."""
        if not isinstance(body, dict):
            return self.error(400, "Invalid JSON body")
        if not isinstance(body.get("messages"), list):
            return self.error(400, "'messages' is a required property", param="messages")
        return None

    def endpoint_problem(self, endpoint: str | None) -> web.Response | None:
        """DeploymentNotFound for any deployment but the configured one."""
        if self.deployment is None or endpoint == self.deployment:
            return None
        message = (
            "The API deployment for this resource does not exist. If you created the "
            "deployment within the last 5 minutes, please wait a moment and try again."
        )
        return json_response(404, {"error": {"code": "DeploymentNotFound", "message": message}})

    def envelope(self, error: _Error) -> dict[str, Any]:
        """400s look like OpenAI's; the others are `{"code": "<status>", "message"}`."""
        if error.status == 400:
            return super().envelope(error)
        code = error.code if error.code is not None else error.status
        return {"error": {"code": str(code), "message": error.message}}

    def headers(self) -> dict[str, str]:
        """Azure's request id headers."""
        request_id = str(uuid.uuid4())
        return {"apim-request-id": request_id, "x-request-id": request_id}

    def error_headers(self, error: ErrorReply) -> dict[str, str]:
        """Azure sends `retry-after-ms` beside `retry-after`."""
        headers = super().error_headers(error)
        if error.retry_after is not None:
            headers["retry-after-ms"] = str(int(error.retry_after * 1000))
        return headers

    def response_model(self, body: dict[str, Any], route: _Route) -> str:
        """Azure reports the deployed model's name, not the deployment's."""
        return self.model or self.default_model

    def head(self, turn: _Turn, kind: str) -> dict[str, Any]:
        """Azure has no service_tier."""
        head = super().head(turn, kind)
        del head["service_tier"]
        return head

    def choice_extras(self, turn: _Turn, delta: dict[str, Any] | None, finish: str | None) -> dict:
        """Content filter results on text and final choices; empty on the other chunks."""
        filtered = turn.reply.content_filter and finish == "content_filter"
        if delta is None or filtered or (delta.get("content") and "role" not in delta):
            results: dict[str, Any] = _azure_filter(filtered)
        else:
            results = {}
        return {"content_filter_results": results, "logprobs": None}

    def completion(self, turn: _Turn) -> dict[str, Any]:
        """Non-stream bodies carry `prompt_filter_results`."""
        return {**super().completion(turn), "prompt_filter_results": _azure_prompt_filter()}

    def decorate_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """Azure messages have `refusal` but no `annotations`."""
        return {**message, "refusal": None}

    def prefix_frames(self) -> list[bytes]:
        """Azure streams open with a choices-less prompt-filter chunk with empty ids."""
        chunk = {
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": _azure_prompt_filter(),
        }
        return [data_frame(chunk)]
