"""nox sessions. Each runs inside the uv workspace environment (``uv run``), so
the core and every plugin are installed exactly as ``scripts/test`` installs them."""

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["tests", "lint"]


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite, including the Claude Code CLI end-to-end tests."""
    session.run("scripts/test", *session.posargs, external=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the core, the plugins, the examples and the tests."""
    session.run("uv", "run", "--locked", "ruff", "check", ".", external=True)


@nox.session
def e2e(session: nox.Session) -> None:
    """Only the tests that drive the real Claude Code CLI."""
    session.run("scripts/test", "-m", "e2e", *session.posargs, external=True)
