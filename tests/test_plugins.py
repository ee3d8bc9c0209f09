"""The plugin manager: discovery, allow and deny lists, broken plugins, strict mode,
registration conflicts, and the example third-party plugin."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from lynkr_core import Provider, Settings, hookimpl
from lynkr_core.app import build_pipeline, create_app
from lynkr_core.config import ConfigError
from lynkr_core.plugins import PluginLoadError, make_plugin_manager

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = "lynkr-example-echo"


def settings(**env: str) -> Settings:
    return Settings({"MODEL_PROVIDER": "echo", **env})


class Named(Provider):
    def __init__(self, name):
        self.name = name

    async def complete(self, request, context):
        raise NotImplementedError

    async def stream(self, request, context):
        raise NotImplementedError
        yield b""


def provider_plugin(*names: str):
    @hookimpl
    def lynkr_register_providers(register, settings):
        for name in names:
            register(Named(name))

    return SimpleNamespace(lynkr_register_providers=lynkr_register_providers)


def test_installed_plugins_are_discovered_through_entry_points():
    pm = make_plugin_manager(settings())
    names = {ep.name for ep in importlib.metadata.entry_points(group="lynkr")}
    assert {EXAMPLE, "lynkr-provider-anthropic"} <= names
    row = pm.statuses[EXAMPLE]
    assert row.enabled and row.distribution == EXAMPLE and row.version == "0.1.0"
    assert "lynkr_register_providers" in row.hooks
    assert pm.get_plugin(EXAMPLE) is not None


def test_denylist_blocks_before_import_and_allowlist_keeps_only_its_names(monkeypatch, tmp_path):
    module = tmp_path / "lynkr_tripwire.py"
    module.write_text("raise RuntimeError('this module must never be imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    tripwire = importlib.metadata.EntryPoint(name="tripwire", value="lynkr_tripwire", group="lynkr")
    real = importlib.metadata.entry_points

    def with_tripwire(group):
        return [*real(group=group), tripwire]

    monkeypatch.setattr(importlib.metadata, "entry_points", with_tripwire)

    denied = make_plugin_manager(settings(LYNKR_DISABLE_PLUGINS=f"tripwire,{EXAMPLE}"))
    assert denied.statuses["tripwire"].reason == "disabled by LYNKR_DISABLE_PLUGINS"
    assert denied.statuses[EXAMPLE].reason == "disabled by LYNKR_DISABLE_PLUGINS"
    assert denied.get_plugin(EXAMPLE) is None
    assert "lynkr_tripwire" not in sys.modules

    allowed = make_plugin_manager(settings(LYNKR_PLUGINS="lynkr-provider-anthropic"))
    assert allowed.enabled_names() == ["lynkr-provider-anthropic"]
    assert allowed.statuses["tripwire"].reason == "not in LYNKR_PLUGINS"
    assert "lynkr_tripwire" not in sys.modules

    # Not blocked: it is imported, fails, and is reported with its name and the error.
    loaded = make_plugin_manager(settings())
    assert "this module must never be imported" in loaded.statuses["tripwire"].reason
    assert loaded.statuses["tripwire"].reason.startswith("failed: RuntimeError")
    assert loaded.statuses[EXAMPLE].enabled
    with pytest.raises(PluginLoadError, match="tripwire"):
        make_plugin_manager(settings(LYNKR_STRICT_PLUGINS="1"))


def test_the_lists_apply_to_plugins_registered_in_code():
    pm = make_plugin_manager(
        settings(LYNKR_DISABLE_PLUGINS="mine"), load_entry_points=False, plugins=[("mine", provider_plugin("x"))]
    )
    assert pm.get_plugin("mine") is None and not pm.statuses["mine"].enabled


def test_a_misspelt_hook_is_reported_against_its_plugin():
    @hookimpl
    def lynkr_register_provider(register, settings):  # missing the final "s"
        pass

    plugin = SimpleNamespace(lynkr_register_provider=lynkr_register_provider)
    pm = make_plugin_manager(settings(), load_entry_points=False, plugins=[("typo", plugin)])
    assert "unknown hook" in pm.statuses["typo"].reason
    assert pm.get_plugin("typo") is None


def test_a_plugin_failing_to_register_is_left_out_with_what_it_registered():
    @hookimpl
    def lynkr_register_providers(register, settings):
        register(Named("half"))
        raise ValueError("missing credentials file")

    broken = SimpleNamespace(lynkr_register_providers=lynkr_register_providers)
    pm = make_plugin_manager(
        settings(), load_entry_points=False, plugins=[("ok", provider_plugin("echo")), ("broken", broken)]
    )
    pipeline = build_pipeline(pm=pm, settings=settings())
    assert pipeline.providers.names() == ["echo"]
    assert "missing credentials file" in pm.statuses["broken"].reason
    strict = make_plugin_manager(
        settings(LYNKR_STRICT_PLUGINS="true"), load_entry_points=False, plugins=[("broken", broken)]
    )
    with pytest.raises(PluginLoadError, match="broken: lynkr_register_providers failed"):
        build_pipeline(settings(LYNKR_STRICT_PLUGINS="true"), strict)


def test_duplicate_names_are_refused_naming_both_plugins():
    # Hook order is pluggy's: the plugin registered last is called first, so it keeps the name.
    pm = make_plugin_manager(
        settings(),
        load_entry_points=False,
        plugins=[("first", provider_plugin("echo", "other")), ("second", provider_plugin("echo"))],
    )
    pipeline = build_pipeline(settings(), pm)
    assert pipeline.providers.owner("echo") == "second"
    assert "other" not in pipeline.providers  # the failing plugin's registrations are dropped
    assert pm.statuses["first"].reason == (
        "failed: lynkr_register_providers failed: first: provider 'echo' already registered by second"
    )


def test_unknown_provider_builds_a_guided_app_and_says_what_is_installed_strict_mode_refuses():
    # the server starts and says why it cannot answer (tests/test_first_run.py serves it)
    app = create_app(Settings({"MODEL_PROVIDER": "nope"}))
    reason = app.state.pipeline.not_ready()
    assert reason.startswith("MODEL_PROVIDER=nope, but no installed plugin provides it; install ")
    assert "echo" in reason.partition("installed providers: ")[2].split(", ")
    with pytest.raises(ConfigError, match=r"MODEL_PROVIDER=nope, but no installed plugin.*installed providers: .*echo"):
        create_app(Settings({"MODEL_PROVIDER": "nope", "LYNKR_STRICT_PLUGINS": "true"}))


def test_allowlisted_but_missing_plugin_is_reported():
    pm = make_plugin_manager(settings(LYNKR_PLUGINS=f"{EXAMPLE},not-installed"))
    assert pm.statuses["not-installed"].reason == "named in LYNKR_PLUGINS but not installed"


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lynkr_core.cli", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "MODEL_PROVIDER": "echo", **env},
        cwd=REPO / "tests",
        timeout=60,
    )


def test_lynkr_plugins_lists_enabled_and_disabled_as_json():
    result = run_cli("plugins", "--json", LYNKR_DISABLE_PLUGINS=EXAMPLE)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows[EXAMPLE]["enabled"] is False
    assert rows[EXAMPLE]["reason"] == "disabled by LYNKR_DISABLE_PLUGINS"
    assert rows["lynkr-provider-anthropic"]["enabled"] is True
    assert rows["lynkr-provider-anthropic"]["hooks"] == ["lynkr_register_providers"]


def test_lynkr_doctor_masks_secrets_and_reports_the_upstream():
    secret = "sk-ant-very-secret-value-1234"
    result = run_cli(
        "doctor",
        MODEL_PROVIDER="anthropic",
        ANTHROPIC_UPSTREAM_API_KEY=secret,
        ANTHROPIC_UPSTREAM_BASE_URL="http://127.0.0.1:9",
    )
    assert secret not in result.stdout + result.stderr
    assert "ANTHROPIC_UPSTREAM_API_KEY=****1234" in result.stdout
    assert "provider: anthropic (from lynkr-provider-anthropic)" in result.stdout
    assert "upstream: FAILED" in result.stdout and result.returncode == 1


def test_lynkr_start_refuses_a_public_bind_without_keys():
    result = run_cli("start", "--host", "0.0.0.0", "--port", "1")
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without API keys" in result.stderr


def test_the_example_plugin_installs_into_a_fresh_environment_and_is_discovered(tmp_path):
    """The documented pip-style install: core and a plugin, then the third-party example."""
    import os
    import shutil

    uv = shutil.which("uv")
    if uv is None:
        if os.environ.get("CI"):
            pytest.fail("uv is missing; scripts/test installs it")
        pytest.skip("uv is not installed")
    venv = tmp_path / "venv"
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    python = str(venv / "bin" / "python")

    def plugins(**extra: str) -> dict[str, dict]:
        result = subprocess.run(
            [python, "-m", "lynkr_core.cli", "plugins", "--json"],
            capture_output=True, text=True, cwd=tmp_path, timeout=60,
            env={"PATH": "/usr/bin:/bin", "MODEL_PROVIDER": "echo", **extra},
        )
        assert result.returncode == 0, result.stderr
        return {row["name"]: row for row in json.loads(result.stdout)}

    def install(*paths: str) -> None:
        args = [arg for path in paths for arg in ("-e", str(REPO / path))]
        subprocess.run([uv, "pip", "install", "-q", *args], env=env, check=True, timeout=300)

    subprocess.run([uv, "venv", "-q", str(venv)], env=env, check=True, timeout=60)
    install(".", "plugins/lynkr-provider-anthropic")
    assert set(plugins()) == {"lynkr-provider-anthropic"}
    install("examples/lynkr-example-echo")
    assert plugins()[EXAMPLE]["enabled"] is True
    assert plugins(LYNKR_DISABLE_PLUGINS=EXAMPLE)[EXAMPLE]["reason"] == "disabled by LYNKR_DISABLE_PLUGINS"
    assert set(plugins(LYNKR_PLUGINS=EXAMPLE)) == {EXAMPLE, "lynkr-provider-anthropic"}
    assert plugins(LYNKR_PLUGINS=EXAMPLE)["lynkr-provider-anthropic"]["enabled"] is False


def test_a_plugin_that_fails_in_one_hook_loses_what_it_registered_in_the_others():
    from lynkr_core import Policy
    from lynkr_core.registered import Registered
    from lynkr_core.testing.plugins import inline_plugin

    class Watcher(Policy):
        name = "watcher"

    def broken(register, settings):
        raise RuntimeError("cannot read my config")

    pm = make_plugin_manager(settings(), load_entry_points=False, plugins=[
        ("half", inline_plugin(policies=[Watcher()], hooks={"lynkr_register_preparers": broken})),
    ])
    registered = Registered(settings(), pm)
    assert "watcher" not in registered.policies
    assert pm.statuses["half"].reason.startswith("failed: lynkr_register_preparers failed")


def test_async_registration_hooks_and_hook_wrappers_are_refused_naming_the_plugin():
    from types import SimpleNamespace

    from lynkr_core.registered import Registered

    @hookimpl
    async def lynkr_register_policies(register, settings):
        register(object())

    @hookimpl(wrapper=True)
    def lynkr_startup(app):
        yield

    pm = make_plugin_manager(settings(), load_entry_points=False, plugins=[
        ("eager", SimpleNamespace(lynkr_register_policies=lynkr_register_policies)),
        ("wrapping", SimpleNamespace(lynkr_startup=lynkr_startup)),
    ])
    Registered(settings(), pm)
    assert pm.statuses["eager"].reason == (
        "failed: lynkr_register_policies failed: lynkr_register_policies must be a plain function, not async")
    assert "lynkr_startup is a hook wrapper" in pm.statuses["wrapping"].reason
