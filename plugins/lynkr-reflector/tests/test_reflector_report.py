"""``lynkr reflect report``: the playbook with its evidence, as a table or JSON."""

from __future__ import annotations

import json

import pytest
from lynkr_reflector.config import db_path, load_settings

from lynkr_core import ConfigError, Settings


async def test_the_report_shows_each_hint_with_its_evidence(feeder_factory, claude_code, lynkr_command, lynkr_env):
    feeder = await feeder_factory()
    for session in claude_code.sessions():
        await feeder.play(session)

    code, out = lynkr_command("reflect", "report")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"playbook for {lynkr_env['WORKSPACE_ROOT']}"
    assert "3 active (at least 2 supporting episodes" in lines[1]
    header = next(line for line in lines if line.startswith("ID "))
    assert header.split() == ["ID", "STATE", "KIND", "TASK", "+", "-", "HINT", "EVIDENCE", "(session#turn)"]
    row = next(line for line in lines if "run `uv run pytest` instead" in line)
    assert row.split()[1:6] == ["active", "recovery", "any", "2", "0"]
    assert row.endswith("+3f2a91c0#1 +77bd01e2#1")
    verify = next(line for line in lines if "to check the change" in line)
    assert verify.endswith("+3f2a91c0#1 +77bd01e2#1 -77bd01e2#1 +77bd01e2#2 (+4 more)")
    candidate = next(line for line in lines if "include more surrounding lines" in line)
    assert candidate.split()[1:6] == ["candidate", "recovery", "any", "1", "0"]
    tasks = lines[lines.index("tasks by type") + 1:]
    assert tasks[0].split()[:2] == ["TYPE", "EPISODES"]
    assert [line.split()[:2] for line in tasks[1:]] == [
        ["debug", "4"], ["docs", "1"], ["refactor", "1"], ["test", "2"]]

    code, out = lynkr_command("reflect", "report", "--json")
    data = json.loads(out)
    assert data["db"] == str(db_path(lynkr_env["LYNKR_HOME"]))
    recovery = next(h for h in data["hints"] if h["key"] == "recovery:pytest|command not found->uv run pytest")
    assert recovery["active"] and recovery["weight"] == 2
    assert [(e["session"], e["turn"], e["support"], e["note"]) for e in recovery["evidence"]] == [
        ("3f2a91c0-6d1e-4b7a-9c52-1e8f0a7d4b21", 1, True, "pytest: command not found"),
        ("77bd01e2-2c4f-4f0e-8a63-5b9d3e6c1f08", 1, True, "pytest: command not found"),
    ]
    debug = next(t for t in data["tasks"] if t["task_type"] == "debug")
    assert debug["corrected"] == 1 and debug["tests_passed"] == 3

    code, out = lynkr_command("reflect", "report", "--workspace", str(lynkr_env["LYNKR_HOME"]))
    assert "no hints yet" in out


def test_the_report_before_anything_was_learnt(lynkr_command, lynkr_env):
    code, out = lynkr_command("reflect", "report")
    assert code == 0
    assert out.startswith("no playbook yet: ")
    code, out = lynkr_command("reflect", "report", "--json")
    assert json.loads(out)["hints"] == []


def test_the_report_and_the_server_find_the_same_file(lynkr_env):
    from lynkr_core import Services

    settings = Settings(lynkr_env)
    services = Services(settings=settings, http=None, model=None)  # type: ignore[arg-type]
    assert services.data_dir("lynkr-reflector") / "playbook.db" == db_path(settings.core.home)


def test_a_bad_setting_is_named(lynkr_env):
    with pytest.raises(ConfigError, match="REFLECTOR_MODE"):
        load_settings(Settings({**lynkr_env, "REFLECTOR_MODE": "oracle"}))
    with pytest.raises(ConfigError, match="REFLECTOR_MAX_HINTS"):
        load_settings(Settings({**lynkr_env, "REFLECTOR_MAX_HINTS": "0"}))
