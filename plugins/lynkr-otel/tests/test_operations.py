"""Running with tracing: a collector that cannot be reached costs no request and is
logged once; ``lynkr doctor`` says where traces go and whether the collector takes them."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anthropic
import pytest
import structlog

from lynkr_core.testing.cli import lynkr_command  # noqa: F401  (a fixture)
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import free_port, make_test_app, serving

from .conftest import UPSTREAM_KEY


async def until(check, seconds: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        assert loop.time() < deadline, "never happened"
        await asyncio.sleep(0.02)


async def test_an_unreachable_collector_fails_no_request_and_is_logged_once(lynkr_env, caplog):
    caplog.set_level(logging.DEBUG)
    nowhere = f"http://127.0.0.1:{free_port()}"
    fake = FakeAnthropic([Reply.text("one"), Reply.text("two"), Reply.text("three")])
    with structlog.testing.capture_logs() as logs:
        async with fake:
            app = make_test_app({
                **lynkr_env, "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-otel",
                "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
                "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY, "LYNKR_OTEL_ENABLED": "true",
                "OTEL_EXPORTER_OTLP_ENDPOINT": nowhere, "OTEL_BSP_SCHEDULE_DELAY": "20",
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "0.5",
            })
            (tracer,) = app.state.pipeline.observers.observers
            async with serving(app) as url:
                exporter = tracer.exporter
                async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
                    for batch in range(1, 4):
                        message = await sdk.messages.create(model="claude-sonnet-4-6", max_tokens=5,
                                                            messages=[{"role": "user", "content": "hi"}])
                        assert message.content[0].text in ("one", "two", "three")
                        # each request's three spans: a batch of its own that fails
                        await until(lambda batch=batch: exporter.failed == 3 * batch)
            assert exporter.exported == 0

    failures = [entry for entry in logs if entry["event"] == "otel_export_failed"]
    assert len(failures) == 1
    assert failures[0]["endpoint"] == f"{nowhere}/v1/traces"
    assert not [record for record in caplog.records if record.name.startswith("opentelemetry.exporter")]


@pytest.fixture
def configure(monkeypatch, tmp_path):
    """Settings in the process environment (the ``lynkr`` command reads it)."""

    def apply(**env: str) -> None:
        settings = {"LYNKR_HOME": str(tmp_path / "home"), "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-otel",
                    "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
                    "ANTHROPIC_UPSTREAM_BASE_URL": f"http://127.0.0.1:{free_port()}", **env}
        for name, value in settings.items():
            monkeypatch.setenv(name, value)

    return apply


def check_line(output: str) -> str | None:
    return next((line for line in output.splitlines() if line.startswith("opentelemetry traces:")), None)


def test_doctor_says_where_traces_go(lynkr_command, configure, collector):  # noqa: F811
    host_port = collector.url.removeprefix("http://")
    configure(LYNKR_OTEL_ENABLED="true", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"http://user:pw@{host_port}/v1/traces")
    _, output = lynkr_command("doctor")
    assert check_line(output) == f"opentelemetry traces: ok: {collector.url}/v1/traces (OTLP/HTTP) (from lynkr-otel)"
    assert "pw@" not in output
    # the probe: one empty batch, decoded by the collector
    assert (collector.posts, collector.spans) == (1, [])


def test_doctor_fails_a_collector_that_does_not_answer(lynkr_command, configure):  # noqa: F811
    nowhere = f"http://127.0.0.1:{free_port()}"
    configure(LYNKR_OTEL_ENABLED="true", OTEL_EXPORTER_OTLP_ENDPOINT=nowhere)
    code, output = lynkr_command("doctor")
    assert code == 1
    assert check_line(output) == (
        f"opentelemetry traces: FAILED: {nowhere}/v1/traces (OTLP/HTTP) did not take an empty batch (from lynkr-otel)"
    )


def test_doctor_says_nothing_while_tracing_is_off(lynkr_command, configure, collector):  # noqa: F811
    configure(OTEL_EXPORTER_OTLP_ENDPOINT=collector.url)
    _, output = lynkr_command("doctor")
    assert check_line(output) is None
    assert collector.posts == 0


def test_doctor_security_reports_traces_in_clear_text_to_another_machine(lynkr_command, configure):  # noqa: F811
    configure(LYNKR_OTEL_ENABLED="true", OTEL_EXPORTER_OTLP_ENDPOINT="http://user:pw@collector.example:4318")
    code, output = lynkr_command("doctor", "--security")
    assert code == 1
    assert "RISK LYNKR_OTEL_ENABLED=true with http://collector.example:4318/v1/traces" in output
    assert "pw" not in output


def test_doctor_security_is_quiet_about_a_local_or_https_collector(lynkr_command, configure, monkeypatch):  # noqa: F811
    for endpoint in ("http://127.0.0.1:4318", "http://localhost:4318", "https://collector.example"):
        configure(LYNKR_OTEL_ENABLED="true", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        _, output = lynkr_command("doctor", "--security")
        assert "LYNKR_OTEL_ENABLED" not in output, endpoint
    configure(OTEL_EXPORTER_OTLP_ENDPOINT="http://collector.example:4318")
    monkeypatch.delenv("LYNKR_OTEL_ENABLED")
    _, output = lynkr_command("doctor", "--security")
    assert "LYNKR_OTEL_ENABLED" not in output


def test_otel_variables_in_the_env_file_reach_the_sdk(lynkr_command, configure, collector, tmp_path):  # noqa: F811
    configure()
    (tmp_path / ".env").write_text(f"LYNKR_OTEL_ENABLED=true\nOTEL_EXPORTER_OTLP_ENDPOINT={collector.url}\n")
    _, output = lynkr_command("doctor")
    assert check_line(output) == f"opentelemetry traces: ok: {collector.url}/v1/traces (OTLP/HTTP) (from lynkr-otel)"
    assert collector.posts == 1
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in os.environ  # shown to the SDK, not left behind


async def test_a_collector_that_never_answers_does_not_hold_the_shutdown(lynkr_env):
    release = threading.Event()
    taken = threading.Event()

    class Hanging(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            taken.set()
            release.wait(60)

        def log_message(self, format, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hanging)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    fake = FakeAnthropic([Reply.text("answered")])
    try:
        with structlog.testing.capture_logs() as logs:
            async with fake:
                app = make_test_app({
                    **lynkr_env, "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-otel",
                    "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
                    "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY, "LYNKR_OTEL_ENABLED": "true",
                    "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}",
                    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "120", "LYNKR_OTEL_SHUTDOWN_TIMEOUT_SECONDS": "0.5",
                    "OTEL_BSP_SCHEDULE_DELAY": "20",
                })
                async with serving(app) as url:
                    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
                        message = await sdk.messages.create(model="claude-sonnet-4-6", max_tokens=5,
                                                            messages=[{"role": "user", "content": "hi"}])
                    await until(taken.is_set)  # the batch is posted, and the collector holds it
            # serving() gives a shutdown 30 s; the export would have held it for 120
        assert message.content[0].text == "answered"
        assert [entry["event"] for entry in logs if entry["event"].startswith("otel_")] == ["otel_shutdown_timed_out"]
    finally:
        release.set()
        server.shutdown()
        server.server_close()
