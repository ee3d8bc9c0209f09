"""``lynkr mcp list``, ``lynkr mcp call`` and ``lynkr doctor`` with real servers."""

from __future__ import annotations

import json

import pytest

from .conftest import quick, toy_stdio_entry, write_manifest


@pytest.fixture
def configure(monkeypatch, tmp_path, workspace):
    """Put settings into the process environment (the ``lynkr`` command reads it)."""

    def apply(*entries, **env: str) -> None:
        manifest = write_manifest(tmp_path / "servers.json", {"servers": list(entries)})
        settings = {"MCP_SERVER_MANIFEST": str(manifest), "WORKSPACE_ROOT": str(workspace),
                    "LYNKR_HOME": str(tmp_path / "home"), "LYNKR_PLUGINS": "lynkr-mcp", **quick(), **env}
        for name, value in settings.items():
            monkeypatch.setenv(name, value)

    return apply


def test_list_shows_state_transport_tools_and_why_a_server_failed(lynkr_command, configure, tmp_path, toy_http):
    broken = {"name": "broken", "command": str(tmp_path / "no-such-server")}
    http = {"name": "remote", "type": "http", "url": toy_http.url}
    configure(toy_stdio_entry(), broken, http)
    code, output = lynkr_command("mcp", "list", "--json")
    listing = json.loads(output)
    servers = {server["name"]: server for server in listing["servers"]}
    assert code == 1  # one server failed
    assert servers["toy"]["state"] == "ready" and servers["toy"]["transport"] == "stdio"
    assert "echo" in servers["toy"]["tools"] and "grow" in servers["toy"]["tools"]
    assert servers["remote"]["state"] == "ready" and servers["remote"]["transport"] == "http"
    assert servers["broken"]["state"] == "failed"
    assert "no-such-server" in servers["broken"]["reason"] and "No such file" in servers["broken"]["reason"]


def test_a_bad_manifest_is_reported_with_its_file_and_the_rest_load(lynkr_command, configure, tmp_path, monkeypatch):
    configure(toy_stdio_entry())
    folder = tmp_path / "more"
    (folder).mkdir()
    (folder / "bad.json").write_text("{not json")
    write_manifest(folder / "no-command.json", [{"name": "half"}])
    monkeypatch.setenv("MCP_MANIFEST_DIRS", str(folder))
    code, text = lynkr_command("mcp", "list")
    assert code == 1
    assert f"problem: {folder / 'bad.json'}: invalid JSON" in text
    assert (f"problem: {folder / 'no-command.json'}: server 'half': needs a command (stdio), "
            'or a type ("http" or "sse") and a url') in text
    assert "toy: ready (stdio)" in text and "tools: echo, add" in text


def test_call_prints_the_tools_output(lynkr_command, configure):
    configure(toy_stdio_entry())
    code, output = lynkr_command("mcp", "call", "toy", "add", '{"a": 2, "b": 40}')
    assert (code, output.strip()) == (0, "42")


def test_call_reports_an_error_result_with_status_1(lynkr_command, configure):
    configure(toy_stdio_entry())
    code, output = lynkr_command("mcp", "call", "toy", "fail", '{"message": "nope"}')
    assert code == 1 and "nope" in output


def test_call_refuses_arguments_that_are_not_a_json_object(lynkr_command, configure):
    configure(toy_stdio_entry())
    assert lynkr_command("mcp", "call", "toy", "add", "[1, 2]")[0] == 2
    assert lynkr_command("mcp", "call", "toy", "add", "{oops")[0] == 2
    assert lynkr_command("mcp", "call", "nobody", "add", "{}")[0] == 1


def test_doctor_reports_each_server(lynkr_command, configure, tmp_path):
    configure(toy_stdio_entry(), {"name": "broken", "command": str(tmp_path / "no-such-server")})
    code, output = lynkr_command("doctor")
    assert code == 1
    assert "mcp server toy: ok: ready, stdio, 12 tools (from lynkr-mcp)" in output
    assert "mcp server broken: FAILED: failed, stdio, 0 tools: " in output
    assert "mcp sandbox: ok: bubblewrap" in output or "mcp sandbox: ok: environment" in output
