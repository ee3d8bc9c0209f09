"""``lynkr memory search|add|forget|stats|export`` as a user runs it."""

from __future__ import annotations

import json


def test_add_search_stats_export_forget(lynkr_command):
    assert lynkr_command("memory", "stats") == (0, f"no memories yet: {_db()} does not exist\n")
    assert lynkr_command("memory", "add", "I prefer Python for data processing.", "--type", "preference") == \
        (0, "remembered as memory 1\n")
    assert lynkr_command("memory", "add", "I prefer Python for data processing.", "--type", "preference") == \
        (0, "already remembered\n")
    assert lynkr_command("memory", "add", "I now prefer Rust for data processing.", "--type", "preference") == \
        (0, "remembered as memory 2\n")
    code, out = lynkr_command("memory", "search", "data processing", "--json")
    assert code == 0 and [m["content"] for m in json.loads(out)] == ["I now prefer Rust for data processing."]
    code, out = lynkr_command("memory", "search", 'NEAR("data" *')
    assert code == 0 and out.split()[0] == "2"
    code, out = lynkr_command("memory", "stats", "--json")
    assert json.loads(out)["active"] == 1 and json.loads(out)["superseded"] == 1
    code, out = lynkr_command("memory", "export")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [2]
    code, out = lynkr_command("memory", "export", "--history")
    assert [json.loads(line)["superseded_by"] for line in out.splitlines()] == [2, None]
    assert lynkr_command("memory", "forget", "2") == (0, "forgot memory 2\n")
    assert lynkr_command("memory", "forget", "2")[0] == 1
    code, out = lynkr_command("memory", "search", "data processing")
    assert out == "no memories match\n"


def _db() -> str:
    import os
    from pathlib import Path

    return str(Path(os.environ["LYNKR_HOME"]) / "lynkr-memory" / "memory.db")
