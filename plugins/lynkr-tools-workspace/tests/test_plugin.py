"""The plugin as a whole: tool names, schemas written for a model, settings."""

from __future__ import annotations

import lynkr_tools_workspace
import pytest
from lynkr_tools_workspace.config import ENV, PLUGIN_NAME, WorkspaceSettings

from lynkr_core import ConfigError, Settings

NAMES = {
    "workspace_read",
    "workspace_write",
    "workspace_edit",
    "workspace_list",
    "workspace_glob",
    "workspace_search",
    "workspace_test_run",
    "workspace_task_create",
    "workspace_task_update",
    "workspace_tasks_list",
    "workspace_task_complete",
}


def test_registered_names(bench):
    assert set(bench.tools.names()) == NAMES
    assert "workspace_index_rebuild" not in bench.tools.names()


@pytest.mark.parametrize("name", sorted(NAMES))
def test_schemas_describe_every_property(bench, name):
    tool = bench.tools.get(name)
    assert len(tool.description) > 40
    schema = bench.schema(name)
    assert schema["type"] == "object"
    for prop, spec in schema["properties"].items():
        assert spec.get("description"), f"{name}.{prop} has no description"
        assert "$ref" not in str(spec)


def test_settings_defaults_and_environment():
    defaults = Settings({}).plugin_config(PLUGIN_NAME, WorkspaceSettings, ENV)
    assert (defaults.max_read_bytes, defaults.max_write_bytes) == (262144, 1048576)
    assert (defaults.test_timeout_ms, defaults.test_tail_lines) == (600000, 80)
    assert defaults.test_command == defaults.policy_test_command == defaults.tasks_db == ""
    configured = Settings(
        {"WORKSPACE_MAX_READ_BYTES": "10", "WORKSPACE_TEST_PASSTHROUGH_ENV": "A, B", "POLICY_GIT_TEST_COMMAND": "make t"}
    ).plugin_config(PLUGIN_NAME, WorkspaceSettings, ENV)
    assert configured.max_read_bytes == 10
    assert configured.test_passthrough_env == ["A", "B"]
    assert configured.policy_test_command == "make t"


@pytest.mark.parametrize(
    ("name", "value"), [("WORKSPACE_MAX_READ_BYTES", "0"), ("WORKSPACE_TEST_TIMEOUT_MS", "soon")]
)
def test_invalid_settings_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        lynkr_tools_workspace.lynkr_register_tools(register=lambda tool: None, settings=Settings({name: value}))
