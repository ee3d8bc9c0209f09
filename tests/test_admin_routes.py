"""Admin routes (``ExtraRoute(admin=True)``): only a key of ``LYNKR_ADMIN_KEYS`` opens them; an
API key does not, and with no admin key configured nobody gets in."""

from __future__ import annotations

import aiohttp
import pytest
from starlette.responses import JSONResponse

from lynkr_core import ExtraRoute
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app, serving


async def secret_things(request):
    return JSONResponse({"thing": request.path_params.get("thing_id", "all")})


ROUTES = [
    ExtraRoute("/v1/things", secret_things, admin=True),
    ExtraRoute("/v1/things/{thing_id}", secret_things, admin=True),
    ExtraRoute("/v1/public-thing", secret_things),
]


async def status_of(url: str, path: str, key: str | None) -> tuple[int, dict]:
    headers = {"x-api-key": key} if key else {}
    async with aiohttp.ClientSession() as http, http.get(url + path, headers=headers) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(("env", "path", "key", "status", "error_type"), [
    ({}, "/v1/things", None, 403, "permission_error"),
    ({"LYNKR_API_KEYS": "api-key-1"}, "/v1/things", "api-key-1", 403, "permission_error"),
    ({"LYNKR_ADMIN_KEYS": "admin-key-1"}, "/v1/things", None, 401, "authentication_error"),
    ({"LYNKR_ADMIN_KEYS": "admin-key-1", "LYNKR_API_KEYS": "api-key-1"}, "/v1/things/7", "api-key-1",
     401, "authentication_error"),
    ({"LYNKR_ADMIN_KEYS": "admin-key-1", "LYNKR_API_KEYS": "api-key-1"}, "/v1/things/7", "admin-key-1",
     200, None),
    ({"LYNKR_ADMIN_KEYS": "admin-key-1"}, "/v1/things", "admin-key-1", 200, None),
    ({"LYNKR_ADMIN_KEYS": "admin-key-1", "LYNKR_API_KEYS": "api-key-1"}, "/v1/public-thing", "api-key-1",
     200, None),
    ({"LYNKR_ADMIN_KEYS": "admin-key-1", "LYNKR_API_KEYS": "api-key-1"}, "/v1/public-thing", "admin-key-1",
     401, "authentication_error"),
])
async def test_admin_routes_answer_only_admin_keys(env, path, key, status, error_type):
    app = make_test_app({"MODEL_PROVIDER": "echo", **env},
                        plugins=[("things", inline_plugin(routes=ROUTES))])
    async with serving(app) as url:
        got, body = await status_of(url, path, key)
    assert got == status, body
    if error_type:
        assert body["error"]["type"] == error_type
    else:
        assert body["thing"] == ("7" if path.endswith("/7") else "all")
