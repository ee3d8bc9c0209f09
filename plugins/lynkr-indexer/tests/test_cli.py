"""``lynkr index``, ``lynkr index stats``, ``lynkr index search`` and ``lynkr claude-md``
through the installed command."""

from __future__ import annotations

import json

import pytest
from lynkr_indexer.summary import GENERATED_HEADER


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path, workspace):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LYNKR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WORKSPACE_ROOT", str(workspace))


@pytest.fixture
def project(write):
    write("pyproject.toml", '[project]\nname = "shop"\ndependencies = ["flask"]\n')
    write("shop/prices.py", 'def net_price(amount):\n    """Without tax."""\n    return amount / 1.2\n')
    write("shop/app.py", "from shop.prices import net_price\n\n\ndef main():\n    return net_price(3)\n")
    write("tests/test_prices.py", "import pytest\n\n\ndef test_net():\n    pass\n")


def test_index_stats_and_search(lynkr_command, project, workspace):
    code, output = lynkr_command("index", "--json")
    assert code == 0
    assert json.loads(output)["parsed"] == 3
    code, output = lynkr_command("index", str(workspace))
    assert code == 0 and "0 parsed, 3 unchanged" in output
    code, output = lynkr_command("index", "stats", "--json")
    stats = json.loads(output)
    assert (stats["files"], stats["symbols"], stats["frameworks"]) == ({"indexed": 3}, 3, ["Flask", "pytest"])
    assert stats["tests"]["command"] == "pytest"
    code, output = lynkr_command("index", "search", "net")
    assert code == 0
    assert output.splitlines()[0] == "shop/prices.py:1: function net_price  def net_price(amount)"
    code, output = lynkr_command("index", "search", "nothing_like_it")
    assert code == 1


def test_stats_without_an_index_says_so(lynkr_command, project):
    code, _ = lynkr_command("index", "stats")
    assert code == 1


def test_claude_md_is_written_and_a_hand_written_one_kept(lynkr_command, project, workspace):
    code, _ = lynkr_command("claude-md", "--write")
    assert code == 0
    text = (workspace / "CLAUDE.md").read_text()
    assert text.startswith(GENERATED_HEADER)
    for part in ("## Overview", "python (3 files", "- Flask (pyproject.toml", "## Key modules and symbols",
                 "shop/prices.py:\n  1: def net_price(amount)", "Run the tests with `pytest`"):
        assert part in text
    code, _ = lynkr_command("claude-md", "--write")  # generated: overwritten
    assert code == 0
    (workspace / "CLAUDE.md").write_text("# Ours\n\nWritten by hand.\n")
    code, _ = lynkr_command("claude-md", "--write")
    assert code == 1
    assert (workspace / "CLAUDE.md").read_text() == "# Ours\n\nWritten by hand.\n"
    code, _ = lynkr_command("claude-md", "--write", "--force")
    assert code == 0
    assert (workspace / "CLAUDE.md").read_text().startswith(GENERATED_HEADER)
