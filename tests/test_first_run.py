"""A first run that guides: a provider no plugin provides, a provider not configured yet,
``lynkr init`` writing the ``.env``, and what each bundled provider says it reads."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib
import importlib.metadata
import inspect
import io
import json
import os
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import anthropic
import lynkr_provider_databricks
import pytest
import structlog

from lynkr_core import ConfigError, Provider, SettingHelp, Settings, __version__, envfile, hookimpl
from lynkr_core import anthropic as wire
from lynkr_core.guidance import install_hint
from lynkr_core.plugins import make_plugin_manager
from lynkr_core.registered import Registered
from lynkr_core.testing.fake_openai import FakeOpenAI
from lynkr_core.testing.server import make_test_app, serving

HELLO = [{"role": "user", "content": "hello"}]
GENERIC_HINT = "install the plugin that provides it (lynkr plugins lists what is installed)"
NOT_CONFIGURED = (
    "MODEL_PROVIDER=databricks is not configured: set DATABRICKS_API_BASE, DATABRICKS_API_KEY "
    "(in the environment, .env or lynkr.toml), or run: lynkr init"
)
SECRET = "sk-first-run-0123456789 'quoted' #not-a-comment $HOME \\"


def expected_hint(provider: str) -> str:
    """What the installed ``lynkr-gateway`` metadata says, looked up independently."""
    try:
        extras = importlib.metadata.metadata("lynkr-gateway").get_all("Provides-Extra") or []
    except importlib.metadata.PackageNotFoundError:
        extras = []
    if f"provider-{provider}" in extras:
        return f"install it with: pip install 'lynkr-gateway[provider-{provider}]'"
    return GENERIC_HINT


def fake_metadata(*extras: str, installed: bool = True):
    asked: list[str] = []

    def metadata(name: str) -> Message:
        asked.append(name)
        if not installed:
            raise importlib.metadata.PackageNotFoundError(name)
        message = Message()
        for extra in extras:
            message["Provides-Extra"] = extra
        return message

    return metadata, asked


def sdk(url: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0)


async def get(url: str) -> tuple[int, dict]:
    """``GET url`` with urllib (aiohttp's client is lynkr's, which ``no_upstream_calls`` watches)."""

    def fetch() -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    return await asyncio.to_thread(fetch)


async def every_api_error(client: anthropic.AsyncAnthropic) -> list[anthropic.APIStatusError]:
    """The errors of a JSON and a streamed message, a token count and the model list."""
    calls = [
        lambda: client.messages.create(model="m", max_tokens=5, messages=HELLO),
        lambda: client.messages.create(model="m", max_tokens=5, messages=HELLO, stream=True),
        lambda: client.messages.count_tokens(model="m", messages=HELLO),
        lambda: client.models.list(),
    ]
    errors = []
    for call in calls:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await call()
        errors.append(caught.value)
    return errors


@pytest.fixture
def no_upstream_calls(monkeypatch):
    """Every request lynkr's aiohttp session would send upstream, recorded and refused."""
    sent: list[str] = []

    async def refuse(self, method, url, **kwargs):
        sent.append(f"{method} {url}")
        raise AssertionError(f"lynkr sent {method} {url}")

    monkeypatch.setattr(aiohttp.ClientSession, "_request", refuse)
    return sent


# --------------------------------------------------------------------------- the install hint


def test_the_hint_names_the_extra_the_installed_distribution_declares():
    metadata, asked = fake_metadata("all", "provider-databricks", "provider-azure-anthropic")
    assert install_hint("databricks", metadata) == "install it with: pip install 'lynkr-gateway[provider-databricks]'"
    assert install_hint("azure-anthropic", metadata).endswith("'lynkr-gateway[provider-azure-anthropic]'")
    assert install_hint("Azure_Anthropic", metadata).endswith("'lynkr-gateway[provider-azure-anthropic]'")
    assert install_hint("acme", metadata) == GENERIC_HINT
    assert set(asked) == {"lynkr-gateway"}


def test_without_the_distribution_the_hint_points_at_lynkr_plugins():
    metadata, asked = fake_metadata(installed=False)
    assert install_hint("databricks", metadata) == GENERIC_HINT
    assert asked == ["lynkr-gateway"]


# --------------------------------------------------------------------------- no plugin for it


async def test_a_core_without_plugins_starts_and_answers_every_api_request_with_the_install_hint(
    capsys, no_upstream_calls
):
    expected = (
        f"MODEL_PROVIDER=databricks, but no installed plugin provides it; {expected_hint('databricks')}; "
        "installed providers: none"
    )
    app = make_test_app({}, load_entry_points=False)
    with structlog.testing.capture_logs() as logs:
        async with serving(app) as url, sdk(url) as client:
            health, ready = await get(url + "/health"), await get(url + "/ready")
            errors = await every_api_error(client)
    assert health == (200, {"status": "ok"})
    assert ready == (503, {"status": "not_configured", "provider": "databricks", "reason": expected})
    for error in errors:
        assert (error.status_code, error.body["error"]["type"]) == (500, "api_error")
        assert error.body["error"]["message"] == expected
    assert capsys.readouterr().err.count(f"lynkr: {expected}\n") == 1
    assert [e["reason"] for e in logs if e["log_level"] == "error"] == [expected]
    assert no_upstream_calls == []


def test_strict_mode_still_refuses_to_start_without_the_provider():
    with pytest.raises(ConfigError, match=r"^MODEL_PROVIDER=databricks, but no installed plugin provides it; "):
        make_test_app({"LYNKR_STRICT_PLUGINS": "true"}, load_entry_points=False)


# --------------------------------------------------------------------------- installed, not configured


DATABRICKS = [("lynkr-provider-databricks", lynkr_provider_databricks)]


async def test_the_default_databricks_unconfigured_says_what_to_set_and_sends_nothing(capsys, no_upstream_calls):
    app = make_test_app({"LYNKR_UPSTREAM_RETRIES": "0"}, plugins=DATABRICKS, load_entry_points=False)
    with structlog.testing.capture_logs() as logs:
        async with serving(app) as url, sdk(url) as client:
            health, ready = await get(url + "/health"), await get(url + "/ready")
            for stream in (False, True):
                with pytest.raises(anthropic.InternalServerError) as caught:
                    await client.messages.create(model="m", max_tokens=5, messages=HELLO, stream=stream)
                assert caught.value.body["error"] == {"type": "api_error", "message": NOT_CONFIGURED}
    assert health[0] == 200
    assert ready == (503, {"status": "not_configured", "provider": "databricks", "reason": NOT_CONFIGURED})
    assert capsys.readouterr().err.count(f"lynkr: {NOT_CONFIGURED}\n") == 1
    assert [e["reason"] for e in logs if e["log_level"] == "error"] == [NOT_CONFIGURED]
    assert no_upstream_calls == []


async def test_a_missing_key_is_named_alone_and_the_configured_workspace_hears_nothing():
    async with FakeOpenAI([], dialect="databricks", api_key="k") as fake:
        env = {"DATABRICKS_API_BASE": fake.base_url, "LYNKR_UPSTREAM_RETRIES": "0"}
        app = make_test_app(env, plugins=DATABRICKS, load_entry_points=False)
        async with serving(app) as url, sdk(url) as client:
            with pytest.raises(anthropic.InternalServerError) as caught:
                await client.messages.create(model="m", max_tokens=5, messages=HELLO)
    assert caught.value.body["error"]["message"] == (
        "MODEL_PROVIDER=databricks is not configured: set DATABRICKS_API_KEY "
        "(in the environment, .env or lynkr.toml), or run: lynkr init"
    )
    assert fake.requests == []


class Fixed(Provider):
    """Answers "ok"; ``needs`` are its missing settings."""

    def __init__(self, name: str, needs: list[str]) -> None:
        self.name, self.needs, self.called = name, needs, 0

    def missing_settings(self) -> list[str]:
        return list(self.needs)

    async def complete(self, request, context):
        self.called += 1
        return wire.MessageResponse(
            id="msg_1", model=request.model, content=[wire.raw(wire.TextBlock(text="ok"))], stop_reason="end_turn"
        )

    async def stream(self, request, context):
        raise NotImplementedError
        yield b""


async def test_a_routed_provider_missing_settings_is_named_and_never_called():
    main, side = Fixed("main", []), Fixed("side", ["SIDE_KEY"])

    @hookimpl
    def lynkr_register_providers(register):
        register(main)
        register(side)

    plugin = SimpleNamespace(lynkr_register_providers=lynkr_register_providers)
    env = {"MODEL_PROVIDER": "main", "LYNKR_MODEL_ROUTES": "haiku=side"}
    app = make_test_app(env, plugins=[("p", plugin)], load_entry_points=False)
    async with serving(app) as url, sdk(url) as client:
        ready = await get(url + "/ready")
        answered = await client.messages.create(model="my-model", max_tokens=5, messages=HELLO)
        with pytest.raises(anthropic.InternalServerError) as caught:
            await client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=HELLO)
    assert ready[0] == 200 and answered.content[0].text == "ok"
    assert caught.value.body["error"]["message"] == (
        "provider side is not configured: set SIDE_KEY (in the environment, .env or lynkr.toml)"
    )
    assert (main.called, side.called) == (1, 0)


# --------------------------------------------------------------------------- lynkr init


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lynkr_core.cli", *args],
        capture_output=True, text=True, cwd=cwd, timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
    )


def read_back(path: Path) -> Settings:
    return Settings.load({}, env_file=path)


def test_lynkr_init_writes_a_private_commented_env_that_reads_back_and_never_shows_the_key(tmp_path):
    organization = "org 'x' #1 $HOME"
    args = ["init", "--provider", "openai", "--set", f"OPENAI_API_KEY={SECRET}", "--set", "OPENAI_MODEL=gpt-4o",
            "--set", f"OPENAI_ORGANIZATION={organization}"]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr and SECRET[:12] not in result.stdout + result.stderr
    assert "OPENAI_API_KEY: set" in result.stdout and "next: lynkr start" in result.stdout
    path = tmp_path / ".env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "# API key (required by api.openai.com; other servers may take none) (required, secret)" in text
    assert "\n# OPENAI_ENDPOINT=https://api.openai.com/v1/chat/completions\n" in text
    settings = read_back(path)
    assert settings.core.model_provider == "openai"
    assert (settings.get("OPENAI_API_KEY"), settings.get("OPENAI_MODEL")) == (SECRET, "gpt-4o")
    assert settings.get("OPENAI_ORGANIZATION") == organization
    assert settings.get("OPENAI_ENDPOINT") is None  # left to the plugin's default
    provider = next(p for p in providers(settings) if p.name == "openai")
    assert provider.missing_settings() == []

    again = run_cli(*args[:3], "--set", "OPENAI_MODEL=other", cwd=tmp_path)
    assert again.returncode == 1 and "exists; pass --force" in again.stderr
    assert path.read_text() == text
    forced = run_cli(*args[:3], "--set", "OPENAI_MODEL=other", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "still to set: OPENAI_API_KEY" in forced.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_back(path).get("OPENAI_MODEL") == "other" and read_back(path).get("OPENAI_API_KEY") is None


def test_lynkr_init_refuses_a_provider_no_plugin_provides_and_asks_nothing_off_a_terminal(tmp_path):
    unknown = run_cli("init", "--provider", "acme", cwd=tmp_path)
    assert unknown.returncode == 2
    assert f"MODEL_PROVIDER=acme, but no installed plugin provides it; {expected_hint('acme')}" in unknown.stderr
    no_terminal = run_cli("init", cwd=tmp_path)
    assert no_terminal.returncode == 2 and "pass --provider" in no_terminal.stderr
    assert not (tmp_path / ".env").exists()


def test_lynkr_init_asks_on_a_terminal_reading_the_secret_without_echo(tmp_path, monkeypatch, capsys):
    answers = iter(["nope", "databricks", "https://adb-1.2.azuredatabricks.net", "", "4096", ""])
    prompts: list[str] = []
    secret_prompts: list[str] = []

    def fake_input(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    def fake_getpass(prompt: str) -> str:
        secret_prompts.append(prompt)
        return SECRET

    monkeypatch.setattr("builtins.input", fake_input)
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    monkeypatch.setattr(sys, "stdin", type("Terminal", (io.StringIO,), {"isatty": lambda self: True})())
    path = tmp_path / "lynkr.env"
    parser = argparse.ArgumentParser()
    envfile.add_arguments(parser)
    settings = Settings({})
    assert envfile.run(parser.parse_args(["--path", str(path)]), settings) == 0

    out, err = capsys.readouterr()
    assert SECRET not in out + err + "".join(prompts + secret_prompts)
    assert prompts[0] == "Provider [databricks]: " and "'nope' is not installed" in out
    assert secret_prompts == ["DATABRICKS_API_KEY: personal access token (required) [hidden]: "]
    assert "DATABRICKS_API_BASE: workspace URL, https://adb-<id>.<n>.azuredatabricks.net (required) []: " in prompts
    assert any(p.startswith("DATABRICKS_ENDPOINT_PATH: ") and p.endswith("/invocations]: ") for p in prompts)
    assert "DATABRICKS_API_KEY: set" in out and "next: lynkr start" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    read = read_back(path)
    assert read.core.model_provider == "databricks"
    assert read.get("DATABRICKS_API_KEY") == SECRET
    assert read.get("DATABRICKS_API_BASE") == "https://adb-1.2.azuredatabricks.net"
    assert read.get("DATABRICKS_MAX_OUTPUT_TOKENS") == "4096"
    assert read.get("DATABRICKS_ENDPOINT_PATH") is None
    provider = next(p for p in providers(read) if p.name == "databricks")
    assert provider.missing_settings() == []


def test_init_values_that_dotenv_would_misread_are_quoted(tmp_path):
    helps = [SettingHelp("A_KEY", "a key", secret=True)]
    values = {"A_KEY": SECRET, "PLAIN": "https://x.example/v1?a=b", "EMPTY": "", "SPACE": " padded "}
    path = tmp_path / ".env"
    envfile.write_private(path, envfile.render("acme", helps, values), force=False)
    settings = read_back(path)
    assert {name: settings.get(name) for name in values} == values
    assert settings.core.model_provider == "acme"


# --------------------------------------------------------------------------- what providers say


def bundled_provider_plugins() -> list[importlib.metadata.EntryPoint]:
    return sorted(
        (ep for ep in importlib.metadata.entry_points(group="lynkr") if ep.name.startswith("lynkr-provider-")),
        key=lambda ep: ep.name,
    )


def providers(settings: Settings, plugins=None) -> list[Provider]:
    pm = make_plugin_manager(settings, load_entry_points=plugins is None, plugins=plugins or [])
    return list(Registered(settings, pm).providers)


def test_every_bundled_provider_plugin_is_checked():
    assert {ep.name for ep in bundled_provider_plugins()} >= {
        "lynkr-provider-anthropic", "lynkr-provider-azure-openai", "lynkr-provider-databricks",
        "lynkr-provider-llamacpp", "lynkr-provider-ollama", "lynkr-provider-openai", "lynkr-provider-openrouter",
    }


@pytest.mark.parametrize("entry_point", bundled_provider_plugins(), ids=lambda ep: ep.name)
def test_settings_help_names_only_what_the_config_reads_and_the_required_ones_are_the_missing_ones(entry_point):
    module = entry_point.load()
    config_source = inspect.getsource(importlib.import_module(f"{module.__name__}.config"))
    registered = providers(Settings({}), [(entry_point.name, module)])
    assert registered, entry_point.name
    for provider in registered:
        helps = provider.settings_help()
        assert helps, provider.name
        for setting in helps:
            assert f'"{setting.name}"' in config_source, (provider.name, setting.name)
            assert setting.help and "\n" not in setting.help
        assert len({s.name for s in helps}) == len(helps)
        assert provider.missing_settings() == [s.name for s in helps if s.required], provider.name


# --------------------------------------------------------------------------- version and doctor


def test_the_version_and_doctor_say_which_lynkr_this_is_and_what_is_missing(tmp_path):
    version = run_cli("--version", cwd=tmp_path)
    assert version.stdout == f"lynkr {__version__}\n"
    doctor = run_cli("doctor", cwd=tmp_path)
    assert doctor.returncode == 1
    assert doctor.stdout.startswith(f"lynkr {__version__} (Python ")
    assert f"configuration: {NOT_CONFIGURED}" in doctor.stdout
    missing = run_cli("doctor", cwd=tmp_path, LYNKR_DISABLE_PLUGINS="lynkr-provider-databricks")
    assert missing.returncode == 1
    assert (
        f"provider: MODEL_PROVIDER=databricks, but no installed plugin provides it; {expected_hint('databricks')}; "
        "installed providers: "
    ) in missing.stdout
