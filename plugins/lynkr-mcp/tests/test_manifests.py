"""Discovery: the original's manifests, Claude Code's formats, ``lynkr.toml``, ``${VAR}``
expansion, trust of a workspace's ``.mcp.json``, and bad files reported with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from lynkr_mcp.expand import MissingVariable, expand
from lynkr_mcp.manifests import TOML_ORIGIN, discover, parse_entry
from lynkr_mcp.source import McpToolSource

from lynkr_core import ConfigError, Settings

from .conftest import write_manifest

ENV = {"HOME_DIR": "/home/dev", "TOKEN": "t0ken"}


def found(tmp_path: Path, *, toml=(), manifest="", dirs=(), trust=False):
    return discover(toml_servers=toml, manifest=manifest, manifest_dirs=dirs, workspace=tmp_path,
                    trust_project=trust, lookup=ENV.get)


@pytest.mark.parametrize(("text", "expected"), [
    ("${HOME_DIR}/x", "/home/dev/x"),
    ("${MISSING:-fallback}", "fallback"),
    ("${MISSING:-}", ""),
    ("${TOKEN:-unused}", "t0ken"),
    ("plain $HOME_DIR and $${X", "plain $HOME_DIR and $${X"),
    ("a${HOME_DIR}b${TOKEN}c", "a/home/devbt0kenc"),
])
def test_expansion_follows_claude_code(text, expected):
    assert expand(text, ENV.get) == expected


def test_an_unset_variable_without_default_is_an_error_naming_it():
    with pytest.raises(MissingVariable, match="NOPE"):
        expand("${NOPE}", ENV.get)


def test_every_file_shape_is_read(tmp_path):
    write_manifest(tmp_path / "d" / "a.json", {"servers": [{"id": "one", "command": "srv-one", "args": ["-v"]}]})
    write_manifest(tmp_path / "d" / "b.json", [{"name": "two", "command": "srv-two", "env": {"K": "${TOKEN}"}}])
    write_manifest(tmp_path / "d" / "c.json", {"mcpServers": {
        "three": {"type": "http", "url": "https://example.test/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}},
        "four": {"type": "sse", "url": "http://127.0.0.1:9/sse"},
        "five": {"command": "${HOME_DIR}/bin/srv"},
    }})
    result = found(tmp_path, dirs=[str(tmp_path / "d")])
    assert result.problems == []
    servers = {spec.name: spec for spec in result.servers}
    assert [spec.name for spec in result.servers] == ["one", "two", "three", "four", "five"]
    assert servers["one"].args == ("-v",) and servers["one"].transport == "stdio"
    assert servers["two"].env == {"K": "t0ken"}
    assert servers["three"].transport == "http" and servers["three"].headers == {"Authorization": "Bearer t0ken"}
    assert servers["four"].transport == "sse"
    assert servers["five"].command == "/home/dev/bin/srv"
    assert servers["three"].where() == "https://example.test/mcp"  # never the headers


def test_bad_files_and_entries_are_reported_and_the_rest_load(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a-broken.json").write_text("[{")
    write_manifest(folder / "b-shape.json", {"something": "else"})
    write_manifest(folder / "c-mixed.json", [
        {"name": "good", "command": "srv"},
        {"name": "nourl", "type": "http"},
        {"name": "badvar", "command": "${UNSET_VARIABLE}"},
        {"name": "weird", "type": "carrier-pigeon"},
        "not an object",
        {"command": "anonymous"},
    ])
    result = found(tmp_path, dirs=[str(folder)], manifest=str(tmp_path / "missing.json"))
    assert [spec.name for spec in result.servers] == ["good"]
    reasons = [str(problem) for problem in result.problems]
    assert reasons[0] == f"{tmp_path / 'missing.json'}: no such file"
    assert reasons[1].startswith(f"{folder / 'a-broken.json'}: invalid JSON")
    assert reasons[2].startswith(f"{folder / 'b-shape.json'}: expected {{\"servers\"")
    assert reasons[3:] == [
        f"{folder / 'c-mixed.json'}: server 'nourl': an http server needs a url",
        f"{folder / 'c-mixed.json'}: server 'badvar': command: environment variable UNSET_VARIABLE is not set "
        "(used as ${UNSET_VARIABLE})",
        f"{folder / 'c-mixed.json'}: server 'weird': unknown transport 'carrier-pigeon'; use stdio, http or sse",
        f"{folder / 'c-mixed.json'}: entry 5: expected an object, got str",
        f"{folder / 'c-mixed.json'}: entry 6: has no name (or id)",
    ]


def test_the_first_definition_of_a_name_wins(tmp_path):
    manifest = write_manifest(tmp_path / "m.json", [{"name": "dup", "command": "from-manifest"}])
    result = found(tmp_path, toml=[{"name": "dup", "command": "from-toml"}], manifest=str(manifest))
    assert [(s.name, s.command, s.origin) for s in result.servers] == [("dup", "from-toml", TOML_ORIGIN)]
    assert "already defined in lynkr.toml" in str(result.problems[0])


def test_a_workspace_mcp_json_is_trusted_only_when_the_operator_says_so(tmp_path):
    write_manifest(tmp_path / ".mcp.json", {"mcpServers": {"repo": {"command": "repo-server"}}})
    assert [s.trusted for s in found(tmp_path).servers] == [False]
    assert [s.trusted for s in found(tmp_path, trust=True).servers] == [True]


def test_an_untrusted_server_is_listed_but_never_started(tmp_path):
    write_manifest(tmp_path / ".mcp.json", {"mcpServers": {"repo": {"command": "/bin/false"}}})
    source = McpToolSource(Settings({"WORKSPACE_ROOT": str(tmp_path), "MCP_MANIFEST_DIRS": ""}))
    [report] = source.reports()
    assert (report.name, report.state) == ("repo", "untrusted")


def test_lynkr_toml_lists_servers(tmp_path):
    settings = Settings({"WORKSPACE_ROOT": str(tmp_path), "MCP_MANIFEST_DIRS": ""}, toml={"plugins": {"lynkr-mcp": {
        "servers": [{"name": "docs", "type": "http", "url": "http://127.0.0.1:1/mcp"}],
        "call_timeout_ms": 1500,
    }}})
    source = McpToolSource(settings)
    assert [(s.name, s.transport, s.origin) for s in source.discovery.servers] == [("docs", "http", TOML_ORIGIN)]
    assert source.config.call_timeout_ms == 1500


def test_a_setting_of_the_wrong_type_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="MCP_SANDBOX_TIMEOUT_MS"):
        McpToolSource(Settings({"WORKSPACE_ROOT": str(tmp_path), "MCP_SANDBOX_TIMEOUT_MS": "soon"}))


def test_parse_entry_keeps_a_description():
    spec = parse_entry({"name": "x", "command": "srv", "description": "does x"}, "here")
    assert spec.description == "does x" and spec.origin == "here"
