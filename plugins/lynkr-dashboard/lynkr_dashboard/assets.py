"""The page's static files, shipped in the package (no build step, nothing from a CDN)."""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

from lynkr_core import NotFound

#: The files the page is made of, and their media types; nothing else is served.
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}

#: Only the page's own files and its own origin's API: no inline script, no third party.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def read_asset(name: str) -> bytes:
    """A file of the page, from the installed package."""
    return resources.files("lynkr_dashboard").joinpath("static", name).read_bytes()


def asset_response(name: str) -> Response:
    """One of ``FILES`` with its media type and the security headers; 404 for anything else."""
    if name not in FILES:
        raise NotFound(f"no dashboard file {name!r}")
    return Response(read_asset(name), media_type=FILES[name], headers=SECURITY_HEADERS)


async def page(request: Request) -> Response:
    """``GET /dashboard``: the page (no data in it; it asks for the admin key)."""
    return asset_response("index.html")


async def asset(request: Request) -> Response:
    """``GET /dashboard/assets/{name}``: the page's script and style sheet."""
    return asset_response(request.path_params["name"])
