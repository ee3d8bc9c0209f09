"""Secrets never reach the logs: a real ``lynkr start`` at debug level, with a client key,
two upstream keys and a plugin's token, is driven through every path where one could
leak (good requests, wrong client keys, an upstream 401 and 500 that echo the key back,
broken streams, a key in the path and in a header, a plugin that logs and raises with
its token), and its whole stdout and stderr are searched for the secrets."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import aiohttp
import pytest
import structlog

from lynkr_core.config import Settings
from lynkr_core.logs import RedactingFilter, Redactor, configure_logging
from lynkr_core.testing.fake_anthropic import CutStream, ErrorReply, FakeAnthropic, Reply
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI
from lynkr_core.testing.fake_openai import CutStream as ChatCut
from lynkr_core.testing.fake_openai import ErrorReply as ChatError
from lynkr_core.testing.gateway import sse_events
from lynkr_core.testing.server import STARTUP_SECONDS, free_port

CLIENT_KEY = "lynkr-client-key-5d9e1f7a3c2b8064"
ANTHROPIC_KEY = "sk-ant-upstream-7f3a9c1e5b2d4f60"
OPENAI_KEY = "sk-openai-upstream-8e2b7d41c9a05f13"
PLUGIN_TOKEN = "crashy-toml-token-1b4d7e0a9c3f6285"
SECRETS = {"client": CLIENT_KEY, "anthropic": ANTHROPIC_KEY, "openai": OPENAI_KEY, "plugin": PLUGIN_TOKEN}

CRASHY_PLUGIN = '''
"""A careless third-party plugin: it logs its token, and raises with it in the message."""

from lynkr_core import Provider, hookimpl


class Crashy(Provider):
    name = "crashy"

    def __init__(self, token):
        self.token = token

    async def complete(self, request, context):
        context.log.debug("crashy_config", token=self.token)
        raise RuntimeError(f"crashy cannot use token {self.token}")

    async def stream(self, request, context):
        context.log.debug("crashy_config", token=self.token)
        raise RuntimeError(f"crashy cannot use token {self.token}")
        yield b""


@hookimpl
def lynkr_register_providers(register, settings):
    register(Crashy(settings.plugin_table("lynkr-test-crashy")["token"]))


@hookimpl
def lynkr_exchange_finished(exchange):
    token = exchange.context.settings.plugin_table("lynkr-test-crashy")["token"]
    raise ValueError(f"observer failed with token {token}")
'''


def install_crashy_plugin(site: Path) -> None:
    """An installed distribution (a module and its dist-info with the ``lynkr`` entry point)
    in ``site``, which the subprocess gets on its PYTHONPATH."""
    (site / "lynkr_test_crashy.py").write_text(textwrap.dedent(CRASHY_PLUGIN))
    info = site / "lynkr_test_crashy-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lynkr-test-crashy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[lynkr]\nlynkr-test-crashy = lynkr_test_crashy\n")


def anthropic_script(body: dict) -> object:
    """What the fake Anthropic API answers, by the last user message."""
    text = body["messages"][-1]["content"]
    return {
        "upstream-401": ErrorReply(401, message=f"invalid x-api-key {ANTHROPIC_KEY}"),
        "upstream-500": ErrorReply(500, message=f"internal error for key {ANTHROPIC_KEY}"),
        "broken-stream": CutStream(deltas=1, abort=True),
        "error-in-stream": ErrorReply(529, message=f"overloaded ({ANTHROPIC_KEY})", in_stream=True),
    }.get(text, Reply.text("fine"))


def openai_script(body: dict) -> object:
    """What the fake OpenAI API answers, by the last user message."""
    text = body["messages"][-1]["content"]
    return {
        "upstream-500": ChatError(500, message=f"server error, key {OPENAI_KEY}"),
        "broken-stream": ChatCut(after_chunks=3),
    }.get(text, ChatReply("fine"))


def lynkr_command() -> list[str]:
    script = Path(sys.executable).with_name("lynkr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lynkr_core.cli"]


async def wait_until_up(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS  # every plugin loads: slow on a busy machine
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise AssertionError(f"lynkr exited with {process.returncode}")
            try:
                async with http.get(url + "/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("lynkr did not come up")


def message(model: str, text: str, *, stream: bool = False) -> dict:
    return {"model": model, "max_tokens": 20, "stream": stream, "messages": [{"role": "user", "content": text}]}


async def drive(url: str) -> None:
    """Every request that touches a path where a secret could leak, each checked for the
    answer that shows it took that path."""
    good = {"x-api-key": CLIENT_KEY}
    async with aiohttp.ClientSession() as http:

        async def post(body: dict, headers: dict, path: str = "/v1/messages") -> tuple[int, str]:
            async with http.post(url + path, json=body, headers=headers) as response:
                return response.status, await response.text()

        assert (await post(message("claude-x", "hello"), good))[0] == 200
        assert (await post(message("claude-x", "hello", stream=True), good))[0] == 200
        bearer = {"authorization": f"Bearer {CLIENT_KEY}"}
        assert (await post(message("claude-x", "hello"), bearer))[0] == 200
        assert (await post(message("claude-x", "hello"), {"x-api-key": CLIENT_KEY[:-1] + "x"}))[0] == 401
        assert (await post(message("claude-x", "hello"), {"x-api-key": ANTHROPIC_KEY}))[0] == 401
        basic = base64.b64encode(f"user:{CLIENT_KEY}".encode()).decode()
        assert (await post(message("claude-x", "hello"), {"authorization": f"Basic {basic}"}))[0] == 401
        # An upstream that quotes the operator's key in its error: the client gets the
        # message, with the key masked as on every log line.
        status, text = await post(message("claude-x", "upstream-401"), good)
        assert status == 401 and ANTHROPIC_KEY not in text and ANTHROPIC_KEY[-4:] in text
        status, text = await post(message("claude-x", "upstream-500"), good)
        assert status == 500 and ANTHROPIC_KEY not in text
        status, text = await post(message("claude-x", "broken-stream", stream=True), good)
        assert status == 200 and sse_events(text)[-1][0] == "error"
        status, text = await post(message("claude-x", "error-in-stream", stream=True), good)
        assert status == 200 and sse_events(text)[-1][0] == "error" and ANTHROPIC_KEY not in text
        status, text = await post(message("gpt-x", "upstream-500"), good)
        assert status == 500 and OPENAI_KEY not in text
        status, text = await post(message("gpt-x", "broken-stream", stream=True), good)
        assert status == 200 and sse_events(text)[-1][0] == "error"
        status, text = await post(message("crash-x", "hello"), good)
        assert status == 500 and PLUGIN_TOKEN not in text
        assert (await post(message("crash-x", "hello", stream=True), good))[0] == 500
        beta = {**good, "anthropic-beta": f"beta-{ANTHROPIC_KEY}"}
        assert (await post(message("claude-x", "hello"), beta))[0] == 200
        assert (await post(message("claude-x", "hello"), good, f"/v1/messages/{OPENAI_KEY}"))[0] == 404
        async with http.get(f"{url}/v1/models/{ANTHROPIC_KEY}", headers=good) as response:
            assert response.status == 404


async def test_no_secret_reaches_stdout_or_stderr(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_crashy_plugin(site)
    (tmp_path / "lynkr.toml").write_text(f'[plugins.lynkr-test-crashy]\ntoken = "{PLUGIN_TOKEN}"\n')
    port = free_port()
    async with (
        FakeAnthropic(anthropic_script, api_key=ANTHROPIC_KEY) as anthropic_fake,
        FakeOpenAI(openai_script, dialect="openai", api_key=OPENAI_KEY) as openai_fake,
    ):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(site),
            "LOG_LEVEL": "debug",
            "LYNKR_TRACE_PLUGINS": "true",
            "LYNKR_API_KEYS": f"{CLIENT_KEY},another-client-key-0000",
            "MODEL_PROVIDER": "anthropic",
            "ANTHROPIC_UPSTREAM_BASE_URL": anthropic_fake.base_url,
            "ANTHROPIC_UPSTREAM_API_KEY": ANTHROPIC_KEY,
            "OPENAI_ENDPOINT": openai_fake.base_url + "/v1/chat/completions",
            "OPENAI_API_KEY": OPENAI_KEY,
            "LYNKR_MODEL_ROUTES": "gpt-*=openai,crash-*=crashy",
            "LYNKR_UPSTREAM_RETRIES": "1",
            "LYNKR_RETRY_BASE_SECONDS": "0.01",
            "LYNKR_RETRY_MAX_SECONDS": "0.05",
            "TOOL_EXECUTION_MODE": "client",
        }
        out, err = tmp_path / "stdout", tmp_path / "stderr"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                *lynkr_command(), "start", "--port", str(port),
                env=env, cwd=tmp_path, stdout=stdout, stderr=stderr,
            )
            try:
                url = f"http://127.0.0.1:{port}"
                await wait_until_up(url, process)
                await drive(url)
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 20)
                except TimeoutError:
                    process.kill()
                    await process.wait()
        # the upstream keys were really used and really echoed back
        assert anthropic_fake.message_requests[0].headers["x-api-key"] == ANTHROPIC_KEY
        assert openai_fake.chat_requests[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"

    logs = out.read_text() + err.read_text()
    for name, secret in SECRETS.items():
        for spelling in (secret, json.dumps(secret)[1:-1], base64.b64encode(secret.encode()).decode()):
            assert spelling not in logs, f"the {name} secret is in the logs"
        assert base64.b64encode(f"user:{secret}".encode()).decode() not in logs
    # the paths that would have leaked did log, masked
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    events = {line["event"] for line in lines}
    assert {"upstream_failed", "internal_error", "hook_failed", "crashy_config", "http"} <= events
    for secret in (ANTHROPIC_KEY, OPENAI_KEY, PLUGIN_TOKEN):
        assert f"****{secret[-4:]}" in logs
    assert any(line.get("path") == f"/v1/models/****{ANTHROPIC_KEY[-4:]}" for line in lines)


def test_settings_list_every_secret_and_nothing_ordinary():
    settings = Settings(
        {
            "LYNKR_API_KEYS": " key-one-12345678 , key-two-87654321",
            "OPENAI_API_KEY": "sk-openai-0000000000",
            "GITHUB_TOKEN": "ghp_0123456789abcdef",
            "LYNKR_LONG_CONTEXT_TOKENS": "100000",
            "TOKENIZERS_PARALLELISM": "false",
            "SHORT_SECRET": "abc",
            "MODEL_PROVIDER": "anthropic-super-long-name",
        },
        {"plugins": {"some-plugin": {"api_token": "toml-token-abcdefgh", "endpoint": "http://x/"}}},
    )
    assert settings.secrets() == sorted([
        "key-one-12345678", "key-two-87654321", "key-one-12345678 , key-two-87654321",
        "sk-openai-0000000000", "ghp_0123456789abcdef", "toml-token-abcdefgh",
    ])


def test_the_redactor_masks_every_spelling_and_leaves_the_rest():
    redactor = Redactor(["sk-secret-with-\"quote\"-1234", "sk-other-secret-5678"])
    assert redactor.redact("key sk-other-secret-5678 and sk-other-secret-5678.") == "key ****5678 and ****5678."
    assert redactor.redact(json.dumps({"k": "sk-secret-with-\"quote\"-1234"})) == '{"k": "****1234"}'
    assert redactor.redact(repr(["sk-secret-with-\"quote\"-1234"])) == "['****1234']"
    assert redactor.redact("nothing here") == "nothing here"
    assert not Redactor([]) and Redactor([]).redact("x") == "x"


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_configured_logging_masks_events_values_and_tracebacks(fmt, capsys):
    secret = "sk-in-process-secret-9999"
    before = structlog.get_config()
    configure_logging("debug", fmt, secrets=[secret])
    try:
        try:
            raise RuntimeError(f"failed with {secret}")
        except RuntimeError:
            structlog.get_logger("test").exception(f"event {secret}", nested={"list": [secret]}, plain=secret)
    finally:
        # the configuration writes to this test's captured stderr: never leave it behind
        configure_logging("info", "json")
        structlog.configure(**before)
    text = capsys.readouterr().err
    assert "****9999" in text and "RuntimeError" in text
    assert secret not in text


def test_stdlib_records_are_masked_too():
    secret = "sk-stdlib-secret-4242"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(Redactor([secret])))
    logger = logging.getLogger("lynkr-test-stdlib")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("upstream said %s", secret)
        try:
            raise KeyError(secret)
        except KeyError:
            logger.exception("task failed")
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().count("****4242") == 2  # the message and the exception's line
    assert secret not in stream.getvalue()
