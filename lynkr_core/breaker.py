"""A circuit breaker per route target: a target that keeps failing is skipped for a while.

Each target (``provider`` or ``provider:model``) has a breaker, created on first use:

- **closed**: requests go to it. An attempt that fails with a 5xx (529 included),
  a timeout or a connection error counts; ``failures`` of them in a row open it.
  Any answer, a 4xx too, shows the upstream is up and resets the count.
- **open**: for ``cooldown`` seconds every attempt at it is refused at once
  (``CircuitOpen``, a 529 ``overloaded_error``) and failover moves to the next
  target without trying it.
- **half-open**: after the cool-down one request (the probe) is let through; the
  others are still refused while it runs. Its success closes the breaker, its
  failure opens it for another cool-down; a probe whose client left frees the
  place for the next request.

``failures=0`` turns breakers off. The state is per process (per worker).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import structlog

from lynkr_core.errors import UpstreamError

log = structlog.get_logger("lynkr.breaker")

BreakerState = Literal["closed", "open", "half_open"]

#: What ``Attempt.skipped`` says for an attempt a breaker refused.
SKIPPED_CIRCUIT_OPEN = "circuit_open"


@dataclass(frozen=True, slots=True)
class CircuitState:
    """A breaker as plugins and ``lynkr doctor`` see it (a snapshot).

    ``retry_in`` is the seconds left of an open breaker's cool-down (0 otherwise);
    ``failures`` the failed attempts in a row; ``opened`` and ``skipped`` count, since
    the process started, how often it opened and how many attempts it refused.
    """

    target: str
    state: BreakerState
    failures: int
    retry_in: float
    opened: int
    skipped: int


class CircuitOpen(UpstreamError):
    """An attempt refused because its target's breaker is open: 529 ``overloaded_error``
    with ``retry-after`` the cool-down left. Failover moves on to the next target; when
    every target was refused, the client gets this error (Claude Code retries it)."""

    def __init__(self, target: str, retry_in: float) -> None:
        why = (f"is skipped for {math.ceil(retry_in)} s (circuit open)" if retry_in > 0
               else "is being probed by another request (circuit half-open)")
        super().__init__(
            f"upstream {target} is failing and {why}",
            status=529,
            error_type="overloaded_error",
            retry_after=max(1.0, float(math.ceil(retry_in))),
            retryable=True,
            retry_same_target=False,
        )
        self.target = target


def counts_as_failure(error: BaseException) -> bool:
    """Whether ``error`` says the upstream is in trouble: an ``UpstreamError`` with a 5xx
    status (529, and the 502/504 of connection faults and timeouts, included). Client
    errors (4xx) and lynkr's own refusals do not count."""
    return isinstance(error, UpstreamError) and not isinstance(error, CircuitOpen) and error.status >= 500


class _Breaker:
    """The state of one target's breaker."""

    __slots__ = ("failures", "open_until", "opened", "probing", "skipped", "state")

    def __init__(self) -> None:
        self.state: BreakerState = "closed"
        self.failures = 0
        self.open_until = 0.0
        self.probing = False
        self.opened = 0
        self.skipped = 0


class CircuitBreakers:
    """The breakers of one app, one per target, keyed by the target's text.

    ``clock`` is a monotonic clock in seconds (a test passes a fake one).
    """

    def __init__(
        self, failures: int = 5, cooldown: float = 60.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures = failures
        self.cooldown = cooldown
        self.clock = clock
        self._breakers: dict[str, _Breaker] = {}

    @property
    def enabled(self) -> bool:
        """Whether breakers are on (``failures`` above 0)."""
        return self.failures > 0

    def admit(self, target: str) -> None:
        """Let an attempt at ``target`` through, or raise ``CircuitOpen``. An open breaker
        whose cool-down is over becomes half-open and admits this attempt as its probe."""
        if not self.enabled:
            return
        breaker = self._breakers.setdefault(target, _Breaker())
        if breaker.state == "closed":
            return
        now = self.clock()
        if breaker.state == "open" and now >= breaker.open_until:
            breaker.state = "half_open"
            breaker.probing = False
        if breaker.state == "half_open" and not breaker.probing:
            breaker.probing = True
            log.info("circuit_half_open", target=target)
            return
        breaker.skipped += 1
        retry_in = max(0.0, breaker.open_until - now) if breaker.state == "open" else 0.0
        raise CircuitOpen(target, retry_in)

    def succeeded(self, target: str) -> None:
        """The upstream answered (any answer that is not a failure): the count resets and
        a half-open breaker closes."""
        breaker = self._breakers.get(target)
        if breaker is None:
            return
        if breaker.state != "closed":
            log.info("circuit_closed", target=target)
        breaker.state = "closed"
        breaker.failures = 0
        breaker.probing = False

    def failed(self, target: str) -> None:
        """An attempt failed in a way that counts: ``failures`` in a row open the breaker,
        and a failed probe opens it again."""
        breaker = self._breakers.get(target)
        if breaker is None:
            return
        breaker.failures += 1
        if breaker.state == "open":  # an attempt admitted before it opened: it stays as it is
            return
        if breaker.state == "half_open" or breaker.failures >= self.failures:
            breaker.state = "open"
            breaker.probing = False
            breaker.open_until = self.clock() + self.cooldown
            breaker.opened += 1
            log.warning("circuit_open", target=target, failures=breaker.failures, cooldown=self.cooldown)

    def abandoned(self, target: str) -> None:
        """The attempt ended without a verdict (its client left): a probe's place is free."""
        breaker = self._breakers.get(target)
        if breaker is not None:
            breaker.probing = False

    @contextlib.contextmanager
    def guard(self, target: str) -> Iterator[None]:
        """``admit`` ``target``, then record how the attempt in the ``with`` block ended."""
        self.admit(target)
        try:
            yield
        except BaseException as exc:
            if counts_as_failure(exc):
                self.failed(target)
            elif isinstance(exc, UpstreamError) and not isinstance(exc, CircuitOpen):
                self.succeeded(target)  # a 4xx: the upstream answered
            else:
                self.abandoned(target)  # the client left, or lynkr failed before an answer
            raise
        self.succeeded(target)

    def states(self) -> list[CircuitState]:
        """Every breaker used so far, by target."""
        now = self.clock()
        return [
            CircuitState(
                target=target,
                state=breaker.state,
                failures=breaker.failures,
                retry_in=round(max(0.0, breaker.open_until - now), 3) if breaker.state == "open" else 0.0,
                opened=breaker.opened,
                skipped=breaker.skipped,
            )
            for target, breaker in sorted(self._breakers.items())
        ]
