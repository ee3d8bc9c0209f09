"""The core's operating route: ``GET /v1/health/circuits``, the circuit breakers' state
(what ``lynkr doctor`` shows of a running server)."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from lynkr_core import runfiles
from lynkr_core.config import Settings

CIRCUITS_PATH = "/v1/health/circuits"


async def circuits(request: Request) -> Response:
    """``GET /v1/health/circuits``: the breaker settings and every used target's breaker
    (``lynkr_core.breaker.CircuitState``), for this worker process. Needs an API key when
    ``LYNKR_API_KEYS`` is set, like every ``/v1`` route."""
    breakers = request.app.state.pipeline.calls.breakers
    body = {
        "failures": breakers.failures,
        "cooldown_seconds": breakers.cooldown,
        "circuits": [dataclasses.asdict(state) for state in breakers.states()],
    }
    return Response(msgspec.json.encode(body), media_type="application/json")


def doctor_lines(settings: Settings, timeout: float = 2.0) -> list[str]:
    """What ``lynkr doctor`` prints of the circuit breakers: their settings, and each
    target's breaker in the running server of this configuration (if one runs)."""
    core = settings.core
    if core.circuit_breaker_failures == 0:
        return ["circuit breakers: off (LYNKR_CIRCUIT_BREAKER_FAILURES=0)"]
    lines = [f"circuit breakers: {core.circuit_breaker_failures} failures in a row skip a target "
             f"for {core.circuit_breaker_cooldown_seconds:g} s"]
    run = runfiles.find(settings)
    if run is None:
        return [*lines, "  no running server for this configuration: no state to show"]
    try:
        report = _get(run.url + CIRCUITS_PATH, core.api_keys[0] if core.api_keys else None, timeout)
    except (OSError, ValueError) as exc:
        return [*lines, f"  {run.url}: cannot read the breakers: {exc}"]
    circuits = report.get("circuits", [])
    if not circuits:
        return [*lines, f"  {run.url}: no upstream called yet"]
    return [*lines, *(f"  {run.url}: {describe(circuit)}" for circuit in circuits)]


def describe(circuit: dict[str, Any]) -> str:
    """One breaker in words: ``openai:gpt-4o: open, retry in 42 s (opened 1x, 3 skipped)``."""
    state = circuit["state"]
    if state == "open":
        state = f"OPEN, retry in {circuit['retry_in']:.0f} s"
    elif circuit["failures"]:
        state = f"{state}, {circuit['failures']} failures in a row"
    return f"{circuit['target']}: {state} (opened {circuit['opened']}x, {circuit['skipped']} skipped)"


def _get(url: str, key: str | None, timeout: float) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"x-api-key": key} if key else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())
