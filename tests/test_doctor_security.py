"""``lynkr doctor --security``: each risky setting is flagged with its fix; a safe
configuration is quiet. Run as the installed command (``lynkr_command``) in a directory
with no ``.env``, settings from the environment only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lynkr_core.testing import cli as testing_cli

lynkr_command = testing_cli.lynkr_command  # the installed command, as a fixture

#: A configuration with nothing risky: loopback, admin key of its own, content redacted.
SAFE = {
    "MODEL_PROVIDER": "anthropic",
    "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-sessions,lynkr-dashboard,lynkr-policy,"
                     "lynkr-tools-workspace,lynkr-tools-git",
    "LYNKR_ADMIN_KEYS": "admin-key-0123456789abcdef",
    "LYNKR_API_KEYS": "client-key-0123456789abcdef",
    "SESSION_CONTENT": "redacted",
}


@pytest.fixture
def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``configure(**settings)``: exactly these lynkr settings in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("LYNKR_", "MODEL_", "POLICY_", "SESSION_", "MCP_", "WORKSPACE_", "PROMPT_CACHE_",
                            "METRICS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LYNKR_HOME", str(tmp_path / "home"))

    def apply(**settings: str) -> None:
        for name, value in settings.items():
            monkeypatch.setenv(name, value)

    return apply


def test_a_safe_configuration_is_quiet(configure, lynkr_command):
    configure(**SAFE)
    code, output = lynkr_command("doctor", "--security")
    assert (code, output) == (0, "security: no risky setting found\n")


@pytest.mark.parametrize(("change", "flagged", "fix"), [
    ({"LYNKR_HOST": "0.0.0.0", "LYNKR_API_KEYS": ""}, "LYNKR_HOST=0.0.0.0 without LYNKR_API_KEYS",
     "set LYNKR_API_KEYS"),
    ({"LYNKR_HOST": "10.1.2.3", "LYNKR_API_KEYS": "", "LYNKR_ALLOW_UNAUTHENTICATED_PUBLIC_BIND": "1"},
     "LYNKR_HOST=10.1.2.3 without LYNKR_API_KEYS", "unset LYNKR_ALLOW_UNAUTHENTICATED_PUBLIC_BIND"),
    ({"POLICY_GIT_ALLOW_PUSH": "true"}, "POLICY_GIT_ALLOW_PUSH=true", "unset POLICY_GIT_ALLOW_PUSH"),
    ({"WORKSPACE_TEST_COMMAND": "make test"}, "POLICY_ALLOW_TEST_COMMAND", "POLICY_ALLOW_TEST_COMMAND=false"),
    ({"POLICY_ALLOW_TEST_COMMAND": "true"}, "POLICY_ALLOW_TEST_COMMAND", "run lynkr in a container"),
    ({"LYNKR_PLUGINS": SAFE["LYNKR_PLUGINS"] + ",lynkr-mcp", "MCP_SANDBOX_ENABLED": "false"},
     "MCP_SANDBOX_ENABLED=false", "unset MCP_SANDBOX_ENABLED"),
    ({"LYNKR_PLUGINS": SAFE["LYNKR_PLUGINS"] + ",lynkr-mcp", "MCP_SANDBOX_ALLOW_NETWORKING": "1"},
     "MCP_SANDBOX_ALLOW_NETWORKING=true", "unless a server needs the network"),
    ({"LYNKR_ADMIN_KEYS": ""}, "LYNKR_ADMIN_KEYS is not set", "set LYNKR_ADMIN_KEYS"),
    ({"LYNKR_ADMIN_KEYS": SAFE["LYNKR_API_KEYS"]}, "a key is in both LYNKR_ADMIN_KEYS and LYNKR_API_KEYS",
     "that no client has"),
    ({"SESSION_CONTENT": "full"}, "SESSION_CONTENT=full", "SESSION_CONTENT=redacted"),
    ({"SESSION_CONTENT": ""}, "SESSION_CONTENT=full (the default)", "SESSION_CONTENT=redacted"),
    ({"LYNKR_ALLOW_PRIVATE_URLS": "true"}, "LYNKR_ALLOW_PRIVATE_URLS=true", "LYNKR_URL_ALLOWED_HOSTS"),
    ({"LYNKR_PLUGINS": SAFE["LYNKR_PLUGINS"] + ",lynkr-cache", "PROMPT_CACHE_ENABLED": "true"},
     "PROMPT_CACHE_ENABLED=true", "turn it off"),
    ({"LYNKR_PLUGINS": SAFE["LYNKR_PLUGINS"] + ",lynkr-metrics", "METRICS_AUTH": "none"},
     "METRICS_AUTH=none", "unset METRICS_AUTH"),
])
def test_each_risky_setting_is_flagged_with_its_fix(configure, lynkr_command, change, flagged, fix):
    settings = {**SAFE, **change}
    if settings.get("SESSION_CONTENT") == "":
        del settings["SESSION_CONTENT"]
    configure(**settings)
    code, output = lynkr_command("doctor", "--security")
    assert code == 1
    assert output.startswith("security: 1 risky setting\n"), output
    assert f"RISK {flagged}" in output
    assert "fix: " in output and fix in output


def test_settings_of_plugins_that_do_not_run_are_not_flagged(configure, lynkr_command):
    configure(**{**SAFE, "LYNKR_PLUGINS": "lynkr-provider-anthropic", "POLICY_GIT_ALLOW_PUSH": "true",
                 "SESSION_CONTENT": "full", "MCP_SANDBOX_ENABLED": "false"})
    code, output = lynkr_command("doctor", "--security")
    assert (code, output) == (0, "security: no risky setting found\n")


def test_a_plugin_table_in_lynkr_toml_counts_too(configure, lynkr_command, tmp_path):
    configure(**SAFE)
    Path(tmp_path / "lynkr.toml").write_text('[plugins.lynkr-policy]\ngit_allow_push = true\n')
    code, output = lynkr_command("doctor", "--security")
    assert code == 1 and "RISK POLICY_GIT_ALLOW_PUSH=true" in output


def test_several_findings_are_counted(configure, lynkr_command):
    configure(**{**SAFE, "SESSION_CONTENT": "full", "POLICY_GIT_ALLOW_PUSH": "1"})
    code, output = lynkr_command("doctor", "--security")
    assert code == 1 and output.startswith("security: 2 risky settings\n")
