"""Hot reload through the real server: ``POST /v1/admin/reload`` and the ``.env`` watcher
swap providers and keys while a stream runs (it finishes against its old upstream), and
a configuration that does not hold is refused with its reason while the old one serves."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anthropic
import pytest
import structlog
from aiohttp import web
from starlette.applications import Starlette

from lynkr_core.config import ConfigError, Settings
from lynkr_core.logs import configure_logging
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply, sse_frame, stream_events
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import free_port, make_test_app, serving

ADMIN = "admin-key-for-reload-0123"
OLD_CLIENT = "old-client-key-0123456789"
NEW_CLIENT = "new-client-key-9876543210"
OLD_UPSTREAM_KEY = "sk-old-upstream-secret-1111"
NEW_UPSTREAM_KEY = "sk-new-upstream-secret-2222"
OLD_TEXT = "the old upstream's whole answer, to the last word"
PROMPT = {"model": "claude-sonnet-4-6", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
WAIT_SECONDS = 30.0


class GatedUpstream:
    """An Anthropic upstream whose streamed answer stops after its first text delta until
    ``gate`` is set (a stream that is in flight for as long as a test needs)."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.streaming = asyncio.Event()
        self.requests: list[dict[str, str]] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> GatedUpstream:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.gate.set()
        assert self._runner is not None
        await self._runner.cleanup()

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"x-api-key": request.headers.get("x-api-key", "")})
        events = stream_events(Reply.text(OLD_TEXT, chunk_size=8, ping=False), message_id="msg_old",
                               model=body["model"], usage={"input_tokens": 3, "output_tokens": 9})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        first_delta = next(i for i, (name, _) in enumerate(events) if name == "content_block_delta")
        for name, data in events[: first_delta + 1]:
            await response.write(sse_frame(name, data))
        self.streaming.set()
        await self.gate.wait()
        for name, data in events[first_delta + 1:]:
            await response.write(sse_frame(name, data))
        await response.write_eof()
        return response


def write_env(path: Path, **values: str) -> None:
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()), encoding="utf-8")


def provider_env(base_url: str, upstream_key: str, client_key: str, **extra: str) -> dict[str, str]:
    return {"MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": base_url,
            "ANTHROPIC_UPSTREAM_API_KEY": upstream_key, "LYNKR_API_KEYS": client_key,
            "LYNKR_UPSTREAM_RETRIES": "0", **extra}


@contextlib.asynccontextmanager
async def lynkr(tmp_path: Path, *, watch: bool = False) -> AsyncIterator[tuple[Starlette, str]]:
    """lynkr as ``lynkr start`` configures it: a process environment (fixed), and ``.env`` and
    ``lynkr.toml`` in ``tmp_path``, which a reload reads again."""
    environ = {"LYNKR_HOME": str(tmp_path / "home"), "LYNKR_ADMIN_KEYS": ADMIN,
               "LYNKR_PLUGINS": "lynkr-provider-anthropic", "LYNKR_RELOAD_WATCH": "true" if watch else "false"}
    app = make_test_app(environ, env_file=tmp_path / ".env", toml_file=tmp_path / "lynkr.toml")
    async with serving(app) as url:
        yield app, url


def sdk(url: str, key: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url, api_key=key, max_retries=0)


async def ask(url: str, key: str) -> str:
    """The text lynkr answers ``PROMPT`` with, asked with the official SDK and ``key``."""
    async with sdk(url, key) as client:
        return (await client.messages.create(**PROMPT)).content[0].text


async def admin_reload(url: str) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as http, http.post(
            url + "/v1/admin/reload", headers={"x-api-key": ADMIN}) as response:
        text = await response.text()
        return response.status, json.loads(text), text


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "lynkr.toml").write_text("", encoding="utf-8")
    return tmp_path


async def test_a_stream_in_flight_finishes_against_its_old_upstream_while_the_next_request_goes_to_the_new(files):
    async with GatedUpstream() as old, FakeAnthropic([Reply.text("from the new upstream")]) as new:
        write_env(files / ".env", **provider_env(old.base_url, OLD_UPSTREAM_KEY, OLD_CLIENT))
        async with lynkr(files) as (app, url):
            old_pipeline = app.state.pipeline
            async with sdk(url, OLD_CLIENT) as client, client.messages.stream(**PROMPT) as stream:
                async for event in stream:
                    if event.type == "text":  # the stream is under way
                        assert OLD_TEXT.startswith(event.text)
                        break
                write_env(files / ".env", **provider_env(new.base_url, NEW_UPSTREAM_KEY, NEW_CLIENT))
                status, report, text = await admin_reload(url)
                old.gate.set()
                message = await stream.get_final_message()
            assert app.state.pipeline is not old_pipeline
            assert message.content[0].text == OLD_TEXT and message.stop_reason == "end_turn"
            answer = await ask(url, NEW_CLIENT)
            with pytest.raises(anthropic.AuthenticationError):
                await ask(url, OLD_CLIENT)
    assert status == 200 and report["status"] == "reloaded" and report["trigger"] == "admin"
    assert {"ANTHROPIC_UPSTREAM_BASE_URL", "ANTHROPIC_UPSTREAM_API_KEY", "LYNKR_API_KEYS"} <= set(report["changed"])
    assert report["needs_restart"] == []
    assert NEW_UPSTREAM_KEY not in structlog.get_config()["processors"][-1].redact(NEW_UPSTREAM_KEY)  # logs mask it
    for secret in (OLD_UPSTREAM_KEY, NEW_UPSTREAM_KEY, OLD_CLIENT, NEW_CLIENT, old.base_url, new.base_url):
        assert secret not in text  # names, never values
    assert answer == "from the new upstream"
    assert [r["x-api-key"] for r in old.requests] == [OLD_UPSTREAM_KEY]
    assert [r.headers["x-api-key"] for r in new.message_requests] == [NEW_UPSTREAM_KEY]


async def test_a_secret_a_reload_adds_is_masked_in_the_request_line_bound_before_it(files, capsys):
    """The request line's logger is bound at the first request; a reload's new secret must
    reach it all the same (the masking is added to structlog's processors in place)."""
    before = structlog.get_config()
    configure_logging("info", "json")
    try:
        async with FakeAnthropic([Reply.text("first"), Reply.text("second")]) as fake:
            write_env(files / ".env", **provider_env(fake.base_url, OLD_UPSTREAM_KEY, OLD_CLIENT))
            async with lynkr(files) as (_, url):
                assert await ask(url, OLD_CLIENT) == "first"  # the request line's logger is bound
                write_env(files / ".env", **provider_env(fake.base_url, NEW_UPSTREAM_KEY, OLD_CLIENT))
                status, _, _ = await admin_reload(url)
                async with sdk(url, OLD_CLIENT) as client:  # a model named like the new key
                    await client.messages.create(**{**PROMPT, "model": NEW_UPSTREAM_KEY})
    finally:
        configure_logging("info", "json")
        structlog.configure(**before)
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "http" and line.get("path") == "/v1/messages"]
    assert status == 200 and len(requests) == 2
    assert requests[1]["model"] == "****2222"
    assert NEW_UPSTREAM_KEY not in err


@pytest.mark.parametrize(("env_changes", "toml", "named"), [
    ({"MODEL_PROVIDER": "nonesuch"}, "", "MODEL_PROVIDER"),
    ({"LYNKR_MODEL_ROUTES": "sonnet"}, "", "LYNKR_MODEL_ROUTES"),
    ({"LYNKR_UPSTREAM_RETRIES": "several"}, "", "LYNKR_UPSTREAM_RETRIES"),
    ({}, "[lynkr\nport = 1", "lynkr.toml"),
    ({"MODEL_PROVIDER": "azure-anthropic"}, "", "AZURE_ANTHROPIC_ENDPOINT"),
    ({"LYNKR_API_KEYS": ""}, "", "LYNKR_API_KEYS"),
    ({"ANTHROPIC_UPSTREAM_BASE_URL": "htp:/127.0.0.1:8080"}, "", "ANTHROPIC_UPSTREAM_BASE_URL"),
], ids=["unknown-provider", "malformed-route", "not-a-number", "malformed-toml", "unconfigured-provider", "no-keys",
        "bad-url"])
async def test_a_bad_configuration_is_refused_with_its_reason_and_the_old_one_keeps_serving(
        files, env_changes, toml, named):
    async with FakeAnthropic(lambda body: Reply.text("still the old one")) as upstream:
        good = provider_env(upstream.base_url, OLD_UPSTREAM_KEY, OLD_CLIENT)
        write_env(files / ".env", **good)
        async with lynkr(files) as (app, url):
            pipeline = app.state.pipeline
            write_env(files / ".env", **{**good, **env_changes})
            (files / "lynkr.toml").write_text(toml, encoding="utf-8")
            status, body, text = await admin_reload(url)
            assert app.state.pipeline is pipeline
            answer = await ask(url, OLD_CLIENT)
    assert status == 400 and body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    message = body["error"]["message"]
    assert message.startswith("reload refused, the configuration in force is kept")
    assert named in message
    if env_changes:
        assert str(files / ".env") in message  # which file sets it
    assert OLD_UPSTREAM_KEY not in text and OLD_CLIENT not in text
    assert answer == "still the old one"


async def test_settings_that_need_a_restart_are_reported_and_keep_their_start_up_values(files):
    async with FakeAnthropic(lambda body: Reply.text("ok")) as upstream:
        env = provider_env(upstream.base_url, OLD_UPSTREAM_KEY, OLD_CLIENT)
        write_env(files / ".env", **env)
        async with lynkr(files) as (app, url):
            write_env(files / ".env", **env, PORT="9999", LYNKR_HOME=str(files / "elsewhere"),
                      FALLBACK_PROVIDER="anthropic")
            status, report, _ = await admin_reload(url)
            unchanged = await admin_reload(url)
            core = app.state.pipeline.settings.core
            assert app.state.services.settings is app.state.pipeline.settings
    assert status == 200 and report["status"] == "reloaded"
    assert report["needs_restart"] == ["PORT"]  # LYNKR_HOME is set in the process environment
    assert core.port == 8080 and core.fallback_provider == ["anthropic"]
    assert unchanged[0] == 200 and unchanged[1]["status"] == "unchanged"


async def test_the_admin_route_needs_an_admin_key(files):
    async with FakeAnthropic() as upstream:
        write_env(files / ".env", **provider_env(upstream.base_url, OLD_UPSTREAM_KEY, OLD_CLIENT))
        async with lynkr(files) as (_, url), aiohttp.ClientSession() as http:
            async with http.post(url + "/v1/admin/reload", headers={"x-api-key": OLD_CLIENT}) as response:
                status, body = response.status, await response.json()
    assert status == 401 and body["error"]["type"] == "authentication_error"


async def test_the_watcher_reloads_after_an_edit_of_the_env_file(files):
    async with FakeAnthropic([Reply.text("old")]) as old, FakeAnthropic([Reply.text("new")]) as new:
        write_env(files / ".env", **provider_env(old.base_url, OLD_UPSTREAM_KEY, OLD_CLIENT))
        async with lynkr(files, watch=True) as (app, url):
            await asyncio.wait_for(app.state.config_watcher.watching.wait(), WAIT_SECONDS)
            assert await ask(url, OLD_CLIENT) == "old"
            write_env(files / ".env", **provider_env(new.base_url, NEW_UPSTREAM_KEY, NEW_CLIENT))
            await wait_for(lambda: app.state.pipeline.settings.core.api_keys == [NEW_CLIENT])
            answer = await ask(url, NEW_CLIENT)
            reloader = app.state.reloader
            assert reloader.last.trigger == "watcher"
            write_env(files / ".env", **provider_env(new.base_url, NEW_UPSTREAM_KEY, NEW_CLIENT,
                                                     MODEL_PROVIDER="nonesuch"))
            await wait_for(lambda: reloader.last.status == "refused")
            kept = await ask(url, NEW_CLIENT)
    assert answer == "new" and kept == "ok"
    assert [r.headers["x-api-key"] for r in new.message_requests] == [NEW_UPSTREAM_KEY] * 2
    assert "MODEL_PROVIDER" in reloader.last.reason


async def wait_for(condition, within: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within} s")
        await asyncio.sleep(0.05)


LYNKR = Path(sys.executable).with_name("lynkr")
SCRUBBED = ("LYNKR_", "MODEL_", "FALLBACK_", "ANTHROPIC_", "PORT", "LOG_LEVEL", "RATE_LIMIT_", "BUDGET_")


async def test_lynkr_start_reloads_an_edited_env_file_by_itself(tmp_path):
    """The real command: its watcher picks up an edit of ``.env`` in its directory."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environ = {name: value for name, value in os.environ.items() if not name.startswith(SCRUBBED)}
    environ.update(LYNKR_HOME=str(tmp_path / "home"), LYNKR_PLUGINS="lynkr-provider-anthropic",
                   LYNKR_ADMIN_KEYS=ADMIN)
    async with FakeAnthropic(lambda body: Reply.text("old")) as old, \
            FakeAnthropic(lambda body: Reply.text("new")) as new:
        write_env(tmp_path / ".env", **provider_env(old.base_url, OLD_UPSTREAM_KEY, OLD_CLIENT), PORT=str(port))
        process = await asyncio.create_subprocess_exec(
            str(LYNKR), "start", cwd=tmp_path, env=environ,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            await wait_until_ready(url, process)
            assert await ask(url, OLD_CLIENT) == "old"
            write_env(tmp_path / ".env", **provider_env(new.base_url, NEW_UPSTREAM_KEY, NEW_CLIENT), PORT=str(port))
            deadline = time.monotonic() + WAIT_SECONDS
            while True:  # the watcher's reload lands some time after the edit
                try:
                    answer = await ask(url, NEW_CLIENT)
                    break
                except anthropic.AuthenticationError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.1)
            with pytest.raises(anthropic.AuthenticationError):
                await ask(url, OLD_CLIENT)
            status, report, _ = await admin_reload(url)
        finally:
            process.send_signal(signal.SIGINT)
            await asyncio.wait_for(process.wait(), WAIT_SECONDS)
    assert answer == "new" and [r.headers["x-api-key"] for r in new.message_requests] == [NEW_UPSTREAM_KEY]
    assert status == 200 and report["status"] == "unchanged"


async def wait_until_ready(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 90
    async with aiohttp.ClientSession() as http:
        while True:
            if process.returncode is not None:
                raise AssertionError(f"lynkr start exited with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url + "/ready") as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise AssertionError("lynkr start did not get ready within 90 s")
            await asyncio.sleep(0.1)


class Limiter:
    """A policy that takes ``LIMITER_LEVEL`` on a reload; ``bad`` is refused in the check."""

    def __init__(self, name: str, refuse: str) -> None:
        self.name = name
        self.refuse = refuse
        self.level = "start"

    async def check_request(self, request, context):
        return None

    def prepare_reload(self, settings):
        level = settings.get("LIMITER_LEVEL", "")
        if level == self.refuse:
            raise ConfigError(f"LIMITER_LEVEL={level} is not a level {self.name} knows")

        def apply():
            self.level = level

        return apply


class Unreloadable:
    name = "unreloadable"

    async def check_request(self, request, context):
        return None


async def test_objects_take_new_settings_only_when_every_check_passes(files):
    first, second = Limiter("first", refuse="never"), Limiter("second", refuse="bad")
    plugins = [("limiters", inline_plugin(policies=[first, second])),
               ("fixed", inline_plugin(policies=[Unreloadable()]))]
    async with FakeAnthropic() as upstream:
        env = provider_env(upstream.base_url, OLD_UPSTREAM_KEY, OLD_CLIENT)
        write_env(files / ".env", **env, LIMITER_LEVEL="low")
        app = make_test_app({"LYNKR_HOME": str(files / "home"), "LYNKR_ADMIN_KEYS": ADMIN,
                             "LYNKR_RELOAD_WATCH": "false",
                             "LYNKR_PLUGINS": "lynkr-provider-anthropic,limiters,fixed"},
                            plugins=plugins, env_file=files / ".env", toml_file=files / "lynkr.toml")
        async with serving(app) as url:
            write_env(files / ".env", **env, LIMITER_LEVEL="bad")
            refused = await admin_reload(url)
            levels_after_refusal = (first.level, second.level)
            write_env(files / ".env", **env, LIMITER_LEVEL="high")
            status, report, _ = await admin_reload(url)
    assert refused[0] == 400 and "limiters: LIMITER_LEVEL=bad is not a level second knows" in refused[1]["error"]["message"]
    assert levels_after_refusal == ("start", "start")  # the first one's check passed: not applied either
    assert status == 200 and (first.level, second.level) == ("high", "high")
    assert report["changed"] == ["LIMITER_LEVEL"] and report["plugins_keeping_settings"] == ["fixed"]


def test_settings_name_what_differs_and_where_they_are_read_from(files):
    write_env(files / ".env", MODEL_PROVIDER="anthropic", ANTHROPIC_UPSTREAM_API_KEY="sk-one-1234567890")
    (files / "lynkr.toml").write_text('[plugins.lynkr-usage]\nqueue_size = 10\n', encoding="utf-8")
    environ = {"LYNKR_HOME": str(files / "home")}
    before = Settings.load(environ, env_file=files / ".env", toml_file=files / "lynkr.toml")
    write_env(files / ".env", MODEL_PROVIDER="anthropic", ANTHROPIC_UPSTREAM_API_KEY="sk-two-1234567890")
    (files / "lynkr.toml").write_text('[lynkr]\nport = 9000\n[plugins.lynkr-usage]\nqueue_size = 20\n',
                                      encoding="utf-8")
    after = before.reload()
    assert before.differences(after) == ["ANTHROPIC_UPSTREAM_API_KEY", "[lynkr] port",
                                         "[plugins.lynkr-usage] queue_size"]
    assert after.core.port == 9000 and before.core.port == 8080
    assert before.config_files() == [files / ".env", files / "lynkr.toml"]
    assert before.source_of("ANTHROPIC_UPSTREAM_API_KEY") == str(files / ".env")
    assert before.source_of("LYNKR_HOME") == "environment" and before.source_of("UNSET_NAME") is None
    built = Settings({"MODEL_PROVIDER": "anthropic"})  # not read from files: nothing to read again
    assert built.reload().differences(built) == [] and built.config_files() == []


class StartedProvider:
    """A provider with a lifecycle, built from ``SIDE_REGION`` at registration."""

    def __init__(self, region: str) -> None:
        self.name = "side"
        self.region = region
        self.started = False

    def start(self, services):
        self.started = True

    def missing_settings(self):
        return []

    def describe(self):
        return {}


async def test_a_started_provider_stays_the_object_in_force_and_is_reported(files):
    def lynkr_register_providers(register, settings):
        register(StartedProvider(settings.get("SIDE_REGION", "")))

    async with FakeAnthropic() as upstream:
        env = provider_env(upstream.base_url, OLD_UPSTREAM_KEY, OLD_CLIENT)
        write_env(files / ".env", **env, SIDE_REGION="north")
        app = make_test_app({"LYNKR_HOME": str(files / "home"), "LYNKR_ADMIN_KEYS": ADMIN,
                             "LYNKR_RELOAD_WATCH": "false", "LYNKR_PLUGINS": "lynkr-provider-anthropic,side"},
                            plugins=[("side", inline_plugin(hooks={"lynkr_register_providers": lynkr_register_providers}))],
                            env_file=files / ".env", toml_file=files / "lynkr.toml")
        async with serving(app) as url:
            before = app.state.pipeline.providers.get("side")
            write_env(files / ".env", **env, SIDE_REGION="south")
            status, report, _ = await admin_reload(url)
            after = app.state.pipeline.providers.get("side")
    assert status == 200 and report["plugins_keeping_settings"] == ["side"]
    assert after is before and after.started and after.region == "north"
    assert app.state.pipeline.providers.get("anthropic") is not None


async def test_load_shedding_limits_take_effect_on_a_reload(files):
    async with FakeAnthropic() as upstream:
        env = provider_env(upstream.base_url, OLD_UPSTREAM_KEY, OLD_CLIENT)
        write_env(files / ".env", **env)
        async with lynkr(files) as (app, url):
            assert app.state.load.queues == frozenset() and app.state.load.max_memory_mb == 0
            write_env(files / ".env", **env, LYNKR_SHED_QUEUES="sessions,reflector", LYNKR_SHED_MEMORY_MB="4096")
            status, report, _ = await admin_reload(url)
            assert status == 200 and sorted(report["changed"]) == ["LYNKR_SHED_MEMORY_MB", "LYNKR_SHED_QUEUES"]
            assert app.state.load.queues == {"sessions", "reflector"} and app.state.load.max_memory_mb == 4096
