"""Server-side tools end to end: the installed tool and policy plugins, loaded from their
entry points, run by lynkr's agent loop against a real git repository, with a scripted
Anthropic-format upstream playing the model and the official SDK as the client. The
``git`` CLI checks what happened, as an independent reader."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anthropic
import pytest

from lynkr_core import Denial, Policy, hookimpl
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving

UPSTREAM_KEY = "upstream-key"
PLUGINS = "lynkr-provider-anthropic,lynkr-tools-workspace,lynkr-tools-git,lynkr-policy"
ASK = [{"role": "user", "content": "update the notes and commit"}]
#: The client's own tool: lynkr offers its tools only next to a client's.
CLIENT_TOOLS = [{"name": "ask_user", "description": "Ask the user a question",
                 "input_schema": {"type": "object", "properties": {"question": {"type": "string"}}}}]


def git(repo: Path, *args: str) -> str:
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin",
           "HOME": str(repo.parent)}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Ada Lovelace")
    git(repo, "config", "user.email", "ada@example.com")
    (repo / "notes.txt").write_text("first line\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "initial")
    (repo / "notes.txt").write_text("first line\nsecond line\n")
    return repo


def tool_use(name: str, tool_input: dict[str, Any], id: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": id, "name": name, "input": tool_input}


def last_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in body["messages"][-1]["content"] if b.get("type") == "tool_result"]


def read_then_commit(body: dict[str, Any]) -> Reply:
    """The model: read notes.txt, then commit with what it read, then answer."""
    turns = len(body["messages"])
    if turns == 1:
        return Reply([{"type": "text", "text": "Reading the notes."},
                      tool_use("workspace_read", {"path": "notes.txt"}, "toolu_read")])
    if turns == 3:
        read = last_results(body)[0]
        assert "second line" in read["content"], read
        return Reply([tool_use("workspace_git_commit",
                               {"message": "notes: add the second line", "all": True}, "toolu_commit")])
    return Reply.text("Committed: " + last_results(body)[0]["content"][:200])


async def start(after_test, fake: FakeAnthropic, repo: Path, plugins=(), **env: str):
    await after_test.enter_async_context(fake)
    settings = {
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",
        "LYNKR_PLUGINS": PLUGINS + "".join("," + name for name, _ in plugins),
        "WORKSPACE_ROOT": str(repo),
        "LYNKR_HOME": str(repo.parent / "home"),
        **env,
    }
    app = make_test_app(settings, plugins=list(plugins))
    url = await after_test.enter_async_context(serving(app))
    client = anthropic.AsyncAnthropic(base_url=url, api_key="client", max_retries=0)
    after_test.push_async_callback(client.close)
    return client


@pytest.mark.parametrize("streamed", [False, True])
async def test_server_mode_reads_then_commits_in_the_real_repository(after_test, repo, streamed):
    fake = FakeAnthropic(read_then_commit, api_key=UPSTREAM_KEY)
    client = await start(after_test, fake, repo)
    request = {"model": "claude-opus-4-8", "max_tokens": 200, "messages": ASK, "tools": CLIENT_TOOLS}

    if streamed:
        async with client.messages.stream(**request) as stream:
            message = await stream.get_final_message()
    else:
        message = await client.messages.create(**request)

    assert git(repo, "log", "-1", "--format=%s|%an <%ae>") == "notes: add the second line|Ada Lovelace <ada@example.com>\n"
    assert git(repo, "show", "HEAD:notes.txt") == "first line\nsecond line\n"
    assert git(repo, "status", "--porcelain") == ""
    git(repo, "fsck", "--strict")
    assert [block.type for block in message.content] == ["text", "text"]
    assert message.content[1].text.startswith("Committed: ")
    assert message.stop_reason == "end_turn"
    advertised = [tool["name"] for tool in fake.message_requests[0].json["tools"]]
    assert {"workspace_read", "workspace_git_commit", "workspace_git_push"} <= set(advertised)


def push_to(remote: str):
    def script(body: dict[str, Any]) -> Reply:
        if len(body["messages"]) == 1:
            return Reply.tool_use("workspace_git_push", {"remote": remote, "branch": "main"}, id="toolu_push")
        return Reply.text(last_results(body)[0]["content"])
    return script


@pytest.mark.parametrize(("allow", "pushed"), [(None, False), ("false", False), ("true", True)])
async def test_push_is_denied_by_default_and_allowed_when_set(after_test, repo, tmp_path, allow, pushed):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    env = {} if allow is None else {"POLICY_GIT_ALLOW_PUSH": allow}
    fake = FakeAnthropic(push_to("origin"), api_key=UPSTREAM_KEY)
    client = await start(after_test, fake, repo, **env)

    message = await client.messages.create(model="m", max_tokens=100, messages=ASK, tools=CLIENT_TOOLS)

    result = last_results(fake.message_requests[1].json)[0]
    if pushed:
        assert not result.get("is_error"), result
        assert git(remote, "log", "--format=%s", "main") == "initial\n"
    else:
        assert result["is_error"] is True
        assert "POLICY_GIT_ALLOW_PUSH" in result["content"]
        assert git(remote, "branch", "--list") == ""  # nothing was pushed
    assert message.content[0].text == result["content"]


def commit_script(body: dict[str, Any]) -> Reply:
    if len(body["messages"]) == 1:
        return Reply.tool_use("workspace_git_commit", {"message": "try", "all": True}, id="toolu_c")
    return Reply.text("result: " + last_results(body)[0]["content"])


@pytest.mark.parametrize("passing", [False, True])
async def test_commit_needs_passing_tests_under_require_tests(after_test, repo, passing):
    (repo / "test_notes.py").write_text(
        "def test_notes():\n    assert %s\n" % ("True" if passing else "'second' not in open('notes.txt').read()")
    )
    fake = FakeAnthropic(commit_script, api_key=UPSTREAM_KEY)
    client = await start(after_test, fake, repo, POLICY_GIT_REQUIRE_TESTS="true",
                         POLICY_GIT_TEST_COMMAND="python3 -m pytest -q -p no:cacheprovider test_notes.py")

    await client.messages.create(model="m", max_tokens=100, messages=ASK, tools=CLIENT_TOOLS)

    result = last_results(fake.message_requests[1].json)[0]
    subjects = git(repo, "log", "--format=%s").split()
    if passing:
        assert not result.get("is_error"), result
        assert subjects == ["try", "initial"]
    else:
        assert result["is_error"] is True and "1 failed" in result["content"]
        assert subjects == ["initial"]


class NoWrites(Policy):
    name = "no-writes"

    async def check_tool(self, call, context):
        if call.effects.writes:
            return Denial(f"this deployment is read-only ({', '.join(call.effects.writes)})")
        return None


async def test_a_third_party_policy_plugin_denies_a_bundled_tool(after_test, repo):
    @hookimpl
    def lynkr_register_policies(register, settings):
        register(NoWrites())

    plugin = SimpleNamespace(lynkr_register_policies=lynkr_register_policies)

    def script(body: dict[str, Any]) -> Reply:
        if len(body["messages"]) == 1:
            return Reply.tool_use("workspace_write", {"path": "new.txt", "content": "x"}, id="toolu_w")
        return Reply.text(last_results(body)[0]["content"])

    fake = FakeAnthropic(script, api_key=UPSTREAM_KEY)
    client = await start(after_test, fake, repo, plugins=[("acme-readonly", plugin)])

    message = await client.messages.create(model="m", max_tokens=100, messages=ASK, tools=CLIENT_TOOLS)

    assert "denied by policy 'no-writes': this deployment is read-only (new.txt)" in message.content[0].text
    assert not (repo / "new.txt").exists()
