"""``GET /metrics``: the Prometheus text format."""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from lynkr_core import LynkrError
from lynkr_metrics.recorder import MetricsRecorder


def metrics_endpoint(recorder: MetricsRecorder):
    """The endpoint serving ``recorder``'s metrics (read on a thread: in multiprocess mode
    it reads every worker's file)."""

    async def metrics(request: Request) -> Response:
        """Every metric, in the Prometheus exposition format."""
        if recorder.metrics is None:
            raise LynkrError("lynkr-metrics is not started yet", status=503)
        recorder.flush()
        body = await asyncio.to_thread(recorder.metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics
