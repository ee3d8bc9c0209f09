"""Public routes (``ExtraRoute(public=True)``): answered without a key even when
``LYNKR_API_KEYS`` is set, for pages that carry no data (a dashboard's static shell)."""

from __future__ import annotations

import aiohttp
import pytest
from starlette.responses import PlainTextResponse

from lynkr_core import ExtraRoute
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app, serving


async def page(request):
    return PlainTextResponse("a page with no data")


ROUTES = [
    ExtraRoute("/ui", page, public=True),
    ExtraRoute("/ui/static/{name}", page, public=True),
    ExtraRoute("/v1/keyed", page),
]


@pytest.mark.parametrize(("path", "status"), [
    ("/ui", 200), ("/ui/static/app.js", 200), ("/v1/keyed", 401), ("/ui/other", 401),
])
async def test_public_routes_need_no_key_when_api_keys_are_set(path, status):
    app = make_test_app({"MODEL_PROVIDER": "echo", "LYNKR_API_KEYS": "api-key-1"},
                        plugins=[("ui", inline_plugin(routes=ROUTES))], load_entry_points=False)
    async with serving(app) as url:
        async with aiohttp.ClientSession() as http, http.get(url + path) as response:
            got = response.status
    assert got == status


def test_a_route_cannot_be_admin_and_public():
    with pytest.raises(ValueError, match="cannot be public"):
        ExtraRoute("/ui", page, admin=True, public=True)
