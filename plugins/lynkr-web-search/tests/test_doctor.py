"""``lynkr doctor`` asks a configured SearXNG one query and reports what it saw."""

from __future__ import annotations

import pytest

from .conftest import FakeSearXNG


@pytest.fixture
def configure(monkeypatch, tmp_path):
    """Settings in the process environment (the ``lynkr`` command reads it)."""
    monkeypatch.chdir(tmp_path)

    def apply(**env: str) -> None:
        settings = {"LYNKR_HOME": str(tmp_path / "home"), "LYNKR_PLUGINS": "lynkr-web-search", **env}
        for name, value in settings.items():
            monkeypatch.setenv(name, value)

    return apply


def check_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("web search backend:"))


def test_doctor_reports_a_searxng_that_answers(lynkr_command, configure):
    searx = FakeSearXNG()
    base = searx.run_in_thread()
    try:
        configure(WEB_SEARCH_ENDPOINT=f"{base}/search")
        _, output = lynkr_command("doctor")
    finally:
        searx.stop_thread()
    assert check_line(output) == (
        f"web search backend: ok: searxng at {base}/search answers (2 result(s) for a test query) (from lynkr-web-search)"
    )
    assert [r.query for r in searx.requests] == [{"q": "lynkr", "format": "json"}]


def test_doctor_fails_a_searxng_that_does_not_answer(lynkr_command, configure):
    configure(WEB_SEARCH_ENDPOINT="http://user:secret@127.0.0.1:9/search", WEB_SEARCH_MAX_RETRIES="0")
    code, output = lynkr_command("doctor")
    line = check_line(output)
    assert code == 1
    assert line.startswith("web search backend: FAILED: searxng at http://127.0.0.1:9/search unreachable")
    assert "secret" not in output


def test_doctor_does_not_probe_the_default_endpoint(lynkr_command, configure):
    configure()
    _, output = lynkr_command("doctor")
    assert "not probed until WEB_SEARCH_ENDPOINT is set" in check_line(output)


@pytest.mark.parametrize(("env", "flagged"), [
    ({"WEB_SEARCH_ENDPOINT": "http://search.example.org/search"}, "search.example.org"),
    ({"WEB_SEARCH_BACKEND": "brave", "WEB_SEARCH_API_KEY": "brave-key-0123456789",
      "WEB_SEARCH_ENDPOINT": "http://user:pw@10.0.0.7:8080/search"}, "10.0.0.7"),
])
def test_doctor_security_flags_a_backend_over_plain_http(lynkr_command, configure, env, flagged):
    configure(**env)
    code, output = lynkr_command("doctor", "--security")
    assert code == 1
    assert f"RISK WEB_SEARCH_ENDPOINT is plain http to {flagged}" in output
    assert ("WEB_SEARCH_API_KEY cross" in output) is ("WEB_SEARCH_API_KEY" in env)
    assert "brave-key" not in output and "pw@" not in output


@pytest.mark.parametrize("env", [
    {},  # the default: SearXNG on localhost
    {"WEB_SEARCH_ENDPOINT": "http://127.0.0.1:8888/search"},
    {"WEB_SEARCH_ENDPOINT": "https://search.example.org/search"},
    {"WEB_SEARCH_BACKEND": "none", "WEB_SEARCH_ENDPOINT": "http://search.example.org/search"},
])
def test_doctor_security_is_quiet_about_an_encrypted_or_local_backend(lynkr_command, configure, env):
    configure(**env)
    _, output = lynkr_command("doctor", "--security")
    assert "WEB_SEARCH" not in output
