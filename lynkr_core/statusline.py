"""``lynkr statusline``: the line Claude Code shows under its prompt (its ``statusLine``
setting; ``lynkr code`` configures it).

Claude Code runs the command with the session as JSON on stdin (``session_id``,
``model``, ``workspace``, ``cost``...). One local call to the lynkr serving the CLI
(``GET /v1/dashboard/status``, from ``lynkr-dashboard``) gives the provider and model
that served the session, its tokens and what lynkr's cache saved; with an admin key in
the settings, a second one (``GET /v1/usage``, from ``lynkr-usage``) gives the session's
cost at the operator's prices (else Claude Code's own estimate is shown, marked as such).
Any failure prints nothing and exits 0: a status line must never break the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from lynkr_core import runfiles
from lynkr_core.config import Settings

#: The whole call must stay well under Claude Code's refresh (it runs the command often).
TIMEOUT_SECONDS = 1.0
STATUS_PATH = "/v1/dashboard/status"


def read_session(stream: Any) -> dict[str, Any]:
    """Claude Code's JSON from ``stream`` (``{}`` when it is a terminal or not JSON)."""
    if stream.isatty():
        return {}
    try:
        data = json.loads(stream.read() or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def server(settings: Settings) -> tuple[str, str | None] | None:
    """The lynkr to ask and the key to ask with: the CLI's ``ANTHROPIC_BASE_URL`` and key
    (``lynkr code`` sets them, and Claude Code passes its environment on), else the running
    server of this configuration with the first ``LYNKR_API_KEYS``."""
    key = os.environ.get("ANTHROPIC_AUTH_TOKEN") or os.environ.get("ANTHROPIC_API_KEY")
    url = os.environ.get("ANTHROPIC_BASE_URL")
    if url:
        return url.rstrip("/"), key
    run = runfiles.find(settings)
    if run is None:
        return None
    return run.url, settings.core.api_keys[0] if settings.core.api_keys else None


def _get(url: str, key: str | None) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"x-api-key": key} if key else {})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        return json.loads(response.read())


def fetch_status(url: str, key: str | None, session_id: str) -> dict[str, Any]:
    """``GET /v1/dashboard/status?session_id=...`` as JSON; without ``lynkr-dashboard``
    (404), the configured provider from ``/ready``. Raises on any other failure."""
    query = urllib.parse.urlencode({"session_id": session_id})
    try:
        return _get(f"{url}{STATUS_PATH}?{query}", key)
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
    ready = _get(f"{url}/ready", None)
    return {"provider": ready.get("provider"), "session": None}


def session_cost(url: str, admin_key: str, session_id: str) -> tuple[float, str] | None:
    """The session's cost and currency from ``lynkr-usage`` (its admin route ``GET /v1/usage``,
    grouped by session over 30 days), or ``None`` when it has no row for it. Raises on failure."""
    report = _get(f"{url}/v1/usage?by=session&since=30", admin_key)
    for row in report.get("rows", []):
        if row.get("group") == session_id:
            return float(row["cost"]), str(report.get("currency", "USD"))
    return None


def _count(tokens: int) -> str:
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.1f}M"
    if tokens >= 1_000:
        return f"{tokens / 1_000:.1f}k"
    return str(tokens)


def render(status: dict[str, Any], session: dict[str, Any]) -> str:
    """The status line: served provider/model, the session's tokens and cost, cache savings."""
    tally = status.get("session") or {}
    provider = tally.get("provider") or status.get("provider") or "?"
    model = tally.get("model") or (session.get("model") or {}).get("id") or ""
    parts = [f"lynkr → {provider}" + (f"/{model}" if model else "")]
    tokens = tally.get("tokens")
    if tokens:
        parts.append(f"{_count(tokens['input'])} in / {_count(tokens['output'])} out")
    cost = tally.get("cost")
    if cost is not None:
        parts.append(f"{cost:.4f} {tally.get('currency', 'USD')}")
    else:  # without lynkr-usage's figure: what Claude Code estimates at Anthropic's list prices
        estimate = (session.get("cost") or {}).get("total_cost_usd")
        if isinstance(estimate, int | float):
            parts.append(f"${estimate:.2f} (Claude Code estimate)")
    saved = []
    if tokens and tokens.get("cache_read"):
        saved.append(f"{_count(tokens['cache_read'])} cached reads")
    if tally.get("cache_hits"):
        kept = tally.get("saved") or {}
        saved.append(f"{tally['cache_hits']} lynkr cache hits "
                     f"({_count(kept.get('input', 0) + kept.get('output', 0))} tokens saved)")
    if saved:
        parts.append("cache: " + ", ".join(saved))
    return " · ".join(parts)


def line(settings: Settings, session: dict[str, Any]) -> str | None:
    """The line to print, or ``None`` when no lynkr answers."""
    target = server(settings)
    if target is None:
        return None
    url, key = target
    session_id = session.get("session_id")
    session_id = session_id if isinstance(session_id, str) else ""
    status = fetch_status(url, key, session_id)
    if status.get("session") and settings.core.admin_keys:
        try:
            priced = session_cost(url, settings.core.admin_keys[0], session_id)
        except (OSError, ValueError, KeyError):
            priced = None  # lynkr-usage not installed, or the key refused: Claude Code's estimate
        if priced is not None:
            status["session"]["cost"], status["session"]["currency"] = priced
    return render(status, session)


def cmd_statusline(args: argparse.Namespace, settings: Settings) -> int:
    """Print the status line for the session on stdin; nothing at all on any failure."""
    try:
        text = line(settings, read_session(sys.stdin))
    except Exception:  # a status line never fails the CLI: no output, exit 0
        return 0
    if text:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    return 0


def main() -> int:
    """``python -m lynkr_core.statusline``: what ``lynkr code`` configures, without loading
    every plugin's command first (Claude Code runs it on every refresh)."""
    try:
        settings = Settings.load()
    except Exception:
        return 0
    return cmd_statusline(argparse.Namespace(), settings)


if __name__ == "__main__":
    sys.exit(main())
