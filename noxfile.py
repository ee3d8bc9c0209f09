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


@nox.session
def e2e_latest(session: nox.Session) -> None:
    """The Claude Code CLI end-to-end tests against the registry's newest CLI (``latest``),
    installed in .tools/claude-code-latest beside the pinned one (scripts/install-claude-code):
    run it before moving the pin."""
    session.run(
        "scripts/test", "-m", "e2e", *session.posargs, external=True,
        env={"LYNKR_CLAUDE_CODE_VERSION": "latest", "LYNKR_CLAUDE_CODE_PREFIX": ".tools/claude-code-latest"},
    )


@nox.session
def fuzz(session: nox.Session) -> None:
    """The fuzz targets of tests/fuzz (SSE parser, decoders, translators) for a bounded time.

    ``nox -s fuzz`` (5 minutes) or ``nox -s fuzz -- --minutes 30``, shared among the
    targets; other arguments go to pytest (``-k stream``). A failure found is saved in
    .hypothesis/examples and replayed first by every later run, ``scripts/test`` included.
    """
    args = list(session.posargs)
    minutes = "5"
    if "--minutes" in args:
        at = args.index("--minutes")
        minutes = args[at + 1]
        del args[at : at + 2]
    session.run(
        "uv", "run", "--locked", "pytest", "tests/fuzz", "-q", "-p", "no:cacheprovider", *args,
        env={"LYNKR_FUZZ_SECONDS": str(float(minutes) * 60)}, external=True,
    )


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark suite (`bench/`): direct, reference proxy and lynkr side by side
    (lynkr-provider, lynkr-operating with metrics, usage and the dashboard, lynkr-all),
    lynkr at its default log level, ``info``, as users run it.

    ``nox -s bench`` (about 4 minutes) or ``nox -s bench -- --quick`` (under one);
    ``-- --targets reference lynkr-operating``, ``-- --log-level warning``;
    results in bench/results/latest.json, the table on stdout.
    """
    session.run("uv", "run", "--locked", "python", "-m", "bench", *session.posargs, external=True)


@nox.session
def bench_instructions(session: nox.Session) -> None:
    """Instructions per request of the reference proxy and lynkr under callgrind: the CPU
    comparison without the machine's noise (`bench/instructions.py`; needs valgrind).

    ``nox -s bench_instructions`` (a few minutes) or ``-- --requests 500``; where the
    instructions go, by function: ``python -m bench.profile --target lynkr-operating``.
    """
    session.run(
        "uv", "run", "--locked", "python", "-m", "bench.instructions", *session.posargs, external=True
    )


@nox.session
def bench_cache(session: nox.Session) -> None:
    """The prompt cache's benchmark (`bench/cache.py`): hit, miss and bypass latency through
    ``lynkr start`` next to the bench's upstream alone, JSON and a 50-chunk stream, then
    lynkr's own time on a hit, timed in process around the interceptor; the tables on stdout.

    ``nox -s bench_cache`` (under a minute) or ``nox -s bench_cache -- --requests 200``.
    """
    session.run("uv", "run", "--locked", "python", "-m", "bench.cache", *session.posargs, external=True)


@nox.session
def bench_index(session: nox.Session) -> None:
    """The indexer's benchmark (`bench/index.py`): a cold index of a real code base of over
    5,000 files (this interpreter's standard library and /usr/include, copied together) next
    to universal-ctags, an incremental re-index after changing 10 files, repo-map queries.

    ``nox -s bench_index`` (minutes, depending on the machine) or ``-- --workers 1 --json``.
    """
    session.run("uv", "run", "--locked", "python", "-m", "bench.index", *session.posargs, external=True)


@nox.session
def bench_peers(session: nox.Session) -> None:
    """The benchmark against peer gateways: LiteLLM's proxy and claude-code-router
    (installed on first use under .tools/bench-peers/, not into the project), side by
    side with the reference proxy and lynkr-provider.

    ``nox -s bench_peers`` or ``nox -s bench_peers -- --quick``; needs uv, node and npm
    and, the first time, network access to PyPI and npm.
    """
    session.run(
        "uv", "run", "--locked", "python", "-m", "bench", "--peers", *session.posargs, external=True
    )


@nox.session
def bench_reflector(session: nox.Session) -> None:
    """What lynkr-reflector costs on a 20-turn Claude Code session (`bench/reflector.py`):
    reading each exchange into the playbook (p50/p99), the exchange hook and the preparer
    with the reflector on and off. Under ten seconds; ``-- --turns 50`` for a longer session."""
    session.run("uv", "run", "--locked", "python", "-m", "bench.reflector", *session.posargs, external=True)


@nox.session
def bench_memory(session: nox.Session) -> None:
    """lynkr-memory's benchmark (`bench/memory.py`): recall@5 and MRR on a generated
    evaluation set (FTS5 alone, the ranked blend, the blend with embeddings), extraction
    time per exchange, retrieval p50/p99 at 10k and 100k memories, bytes per memory.
    A few minutes; ``nox -s bench_memory -- --quick`` for under one."""
    session.run("uv", "run", "--locked", "python", "-m", "bench.memory", *session.posargs, external=True)


@nox.session
def soak(session: nox.Session) -> None:
    """The long load test: 200 concurrent streams through ``lynkr start`` for 60 s (or
    ``LYNKR_SOAK_SECONDS``); zero errors, flat memory and descriptors; prints the figures."""
    import os  # here, not at the top: this session is the only one that reads the environment

    seconds = os.environ.get("LYNKR_SOAK_SECONDS") or "60"
    session.run(
        "uv", "run", "--locked", "pytest", "tests/reliability/test_load.py", "-s", "-q",
        "-p", "no:cacheprovider", *session.posargs,
        env={"LYNKR_SOAK_SECONDS": seconds}, external=True,
    )
