"""What lynkr-memory costs and how well it recalls: ``python -m bench.memory [--quick]``
(``nox -s bench_memory``).

1. **Retrieval quality** on a deterministic evaluation set: ``--users`` generated users
   (300), each with 3 to 5 sessions in which they state preferences, decisions and facts
   (with paraphrased wording), chat about other things, and later contradict some of what
   they said; then queries, from a later session, whose right memory is known (the latest
   statement about the subject asked about, which must be learnt by extraction first).
   Each user has a database of their own. Reported: recall@5 and MRR for FTS5 alone
   (relevance only), the ranked blend (relevance, recency, importance), and the blend with
   the embeddings retriever (lynkr-memory-embeddings, when installed); plus how often
   anything is injected for a question no memory answers.
2. **Retrieval latency** at 10k and 100k memories: ``recall`` (the SQLite reads and the
   ranking) p50/p99, FTS5 alone and with embeddings, and the whole preparer (thread hop,
   ranking, injection) at 100k.
3. **Extraction** time per exchange (the worker's whole step: extraction, surprise against
   the store, the write) and the database's bytes per memory.

Wall time on this machine, single process.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lynkr_memory
import structlog
from lynkr_memory.config import DB_NAME, PLUGIN_NAME, load_settings
from lynkr_memory.memory import LongTermMemory
from lynkr_memory.recall import recall
from lynkr_memory.retrievers import Fts5Retriever
from lynkr_memory.store import MemoryStore

from lynkr_core import (
    Exchange,
    HookCall,
    ModelClient,
    RequestContext,
    Services,
    Settings,
    anthropic,
)

try:
    import lynkr_memory_embeddings
except ImportError:  # the plugin is optional
    lynkr_memory_embeddings = None

DAY = 86400.0

# --------------------------------------------------------------------------- the evaluation set


@dataclass(frozen=True)
class Topic:
    """A subject a user states something about: the statement templates (any one may be
    used; ``{x}`` is the choice), the contradiction templates, the choices, and the queries
    that should recall the statement."""

    name: str
    says: tuple[str, ...]
    changes: tuple[str, ...]
    choices: tuple[str, ...]
    asks: tuple[str, ...]


TOPICS = (
    Topic("data language",
          ("I prefer {x} for data processing.", "I really prefer {x} for data processing work.",
           "For data processing I prefer {x}."),
          ("Actually, I now prefer {x} for data processing instead.", "I no longer use the old one: I prefer {x} for data processing now."),
          ("Python", "R", "Julia", "Rust", "Scala"),
          ("Write a script that processes the sales data", "which language should the data processing job use?",
           "clean up the data pipeline", "crunch the numbers in this CSV")),
    Topic("editor",
          ("My favourite editor is {x}.", "My preferred editor is {x}."),
          ("Actually my favourite editor is {x} now.",),
          ("vim", "emacs", "VS Code", "Helix", "Zed"),
          ("set up my editor config", "which editor do I use?", "configure my text editor keybindings")),
    Topic("database",
          ("We decided to use {x} for the database.", "We chose {x} for the database.",
           "The team agreed to go with {x} for the database."),
          ("We switched to {x} for the database instead.", "Actually we decided to use {x} for the database now."),
          ("PostgreSQL", "MySQL", "SQLite", "MongoDB", "CockroachDB"),
          ("write the migration for the orders table in the database", "which database are we on?",
           "tune the slow database queries")),
    Topic("cache",
          ("Let's go with {x} for caching.", "We decided to use {x} for caching."),
          ("We switched to {x} for caching.",),
          ("Redis", "Memcached", "Varnish", "KeyDB"),
          ("add a caching layer in front of the product lookup", "what do we use for caching?",
           "the cache is slow, investigate")),
    Topic("deploy",
          ("The deploy target is {x}.", "Our deploy target is {x}."),
          ("Actually the deploy target is {x} now.",),
          ("Kubernetes", "Heroku", "Fly.io", "AWS Lambda", "Nomad"),
          ("how do we deploy this service?", "write the deploy script", "prepare the deploy target config")),
    Topic("port",
          ("Our API runs on port {x}.", "Our API server runs on port {x}."),
          ("Actually our API runs on port {x} now.",),
          ("8080", "3000", "5000", "8443", "9000"),
          ("which port does the API listen on?", "start the API server locally", "open the API port in the firewall")),
    Topic("tests",
          ("Please always write tests with {x}.", "Always write the tests with {x}."),
          ("Actually, always write tests with {x} from now on.",),
          ("pytest", "unittest", "hypothesis", "ward"),
          ("add tests for the parser", "write a test for the login flow", "which test framework should I write tests with?")),
    Topic("ci",
          ("We decided to use {x} for CI.", "We settled on {x} for CI."),
          ("We moved to {x} for CI instead.",),
          ("GitHub Actions", "GitLab CI", "Jenkins", "CircleCI", "Buildkite"),
          ("set up the CI pipeline", "the CI build is failing, fix it", "add a CI job for linting")),
    Topic("packages",
          ("I like {x} for managing Python packages.", "I prefer {x} for managing packages."),
          ("Actually I now prefer {x} for managing packages.",),
          ("uv", "poetry", "pip-tools", "pdm", "hatch"),
          ("install the dependencies", "add requests as a package", "how should I manage the packages?")),
    Topic("frontend",
          ("We decided to use {x} for the frontend.", "We chose {x} for the frontend."),
          ("We switched to {x} for the frontend.",),
          ("React", "Vue", "Svelte", "Angular", "Solid"),
          ("build the settings page in the frontend", "what frontend framework do we use?", "add a frontend component for the table")),
    Topic("logging",
          ("We decided to use {x} for logging.", "Let's go with {x} for logging."),
          ("We switched to {x} for logging instead.",),
          ("structlog", "loguru", "the logging module", "eliot"),
          ("add logging to the worker", "which logging library do we use?", "the logging output is noisy")),
    Topic("timezone",
          ("Our team is based in {x}.", "Our office is in {x}."),
          ("Actually our team is based in {x} now.",),
          ("Berlin", "Tokyo", "Toronto", "Lagos", "Sydney"),
          ("schedule the standup for the team", "where is the team based?", "what time is it for our office?")),
    Topic("relationship",
          ("src/billing/invoice.py depends on {x}.", "The invoice module depends on {x}."),
          ("Actually src/billing/invoice.py depends on {x} now.",),
          ("src/billing/tax.py", "src/billing/currency.py", "src/core/money.py", "src/billing/rates.py"),
          ("what does invoice.py depend on?", "refactor the invoice module dependencies", "why does the invoice import fail?")),
)

CHATTER = (
    "Can you fix the failing test in parser.py?", "Thanks, that looks good.", "Run the linter please.",
    "Why is the build slow today?", "Show me the diff.", "Rename the variable to total_amount.",
    "What does this error mean: KeyError 'id'?", "Let me think about it.", "ok, continue",
    "Explain the retry logic in client.py.", "Add a docstring to the helper.", "Looks fine, ship it.",
)
UNANSWERED = (
    "What's the capital of France?", "Tell me a joke about cats.", "How tall is Mount Everest?",
    "translate 'good morning' to Spanish", "what is the boiling point of water at altitude?",
)


@dataclass
class Query:
    text: str
    expected: str | None  # the memory that should be recalled (None: nothing should)


@dataclass
class User:
    sessions: list[list[str]] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)


def generate(users: int, seed: int = 7) -> list[User]:
    """The evaluation set: ``users`` users with their sessions and queries."""
    rng = random.Random(seed)
    made = []
    for _ in range(users):
        user = User()
        topics = rng.sample(TOPICS, rng.randint(4, 7))
        sessions: list[list[str]] = [[] for _ in range(rng.randint(3, 5))]
        latest: dict[str, str] = {}
        for topic in topics:
            first, second = rng.sample(topic.choices, 2)
            start = rng.randrange(len(sessions) - 1)
            statement = rng.choice(topic.says).format(x=first)
            sessions[start].append(statement)
            latest[topic.name] = statement
            if rng.random() < 0.4:  # a later contradiction
                later = rng.randrange(start + 1, len(sessions))
                change = rng.choice(topic.changes).format(x=second)
                sessions[later].append(change)
                latest[topic.name] = change
        for session in sessions:
            for _ in range(rng.randint(1, 3)):
                session.insert(rng.randrange(len(session) + 1), rng.choice(CHATTER))
        user.sessions = sessions
        for topic in topics:
            user.queries.append(Query(rng.choice(topic.asks), latest[topic.name]))
        user.queries.append(Query(rng.choice(UNANSWERED), None))
        made.append(user)
    return made


# --------------------------------------------------------------------------- harness


def settings_for(home: str, **env: str) -> Settings:
    return Settings({"LYNKR_HOME": home, **env})


def exchange_for(settings: Settings, text: str, session_id: str) -> Exchange:
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": text}]}
    request = anthropic.decode_request(json.dumps(body).encode())
    context = RequestContext(request_id="bench", http=None, settings=settings,  # type: ignore[arg-type]
                             log=structlog.get_logger("bench"), session_id=session_id)
    step = context.begin_step(request)
    step.finish(None)
    return Exchange(request=request, client_request=request, context=context, streamed=False, duration=0.0)


async def no_model(request: Any, purpose: str) -> Any:
    raise AssertionError("the benchmark uses heuristic extraction")


def retriever_hooks(with_embeddings: bool) -> Callable[[str], list[HookCall]]:
    plugins = [("lynkr-memory", lynkr_memory)]
    if with_embeddings and lynkr_memory_embeddings is not None:
        plugins.insert(0, ("lynkr-memory-embeddings", lynkr_memory_embeddings))

    def calls(name: str) -> list[HookCall]:
        return [HookCall(plugin, name, getattr(module, name), ("register", "settings"))
                for plugin, module in plugins if hasattr(module, name)]
    return calls


async def started(home: str, with_embeddings: bool, **env: str) -> LongTermMemory:
    settings = settings_for(home, **env)
    memory = LongTermMemory(load_settings(settings))
    await memory.start(Services(settings=settings, http=None, model=ModelClient(no_model),  # type: ignore[arg-type]
                                plugin_hooks=retriever_hooks(with_embeddings)))
    return memory


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --------------------------------------------------------------------------- 1. quality


async def quality(users: list[User], extraction_times: list[float], env: dict[str, str]) -> dict[str, dict[str, float]]:
    """recall@5, MRR and the share of unanswerable questions that got an injection, per mode."""
    modes = ["fts5 alone", "ranked blend"] + (["blend + embeddings"] if lynkr_memory_embeddings else [])
    ranks: dict[str, list[int | None]] = {mode: [] for mode in modes}
    spurious: dict[str, int] = dict.fromkeys(modes, 0)
    unanswered = 0
    stored = missing = 0
    for number, user in enumerate(users):
        with tempfile.TemporaryDirectory(prefix="lynkr-bench-memory-") as home:
            memory = await started(home, with_embeddings=lynkr_memory_embeddings is not None, **env)
            clock = time.time() - len(user.sessions) * DAY
            for index, session in enumerate(user.sessions):
                for text in session:
                    # the worker's step, run here so that its CPU time can be read
                    start = time.thread_time()
                    memory._learn(text, f"u{number}-s{index}")
                    extraction_times.append(time.thread_time() - start)
                # sessions a day apart: recency means something
                await memory._write(_age_all, memory._store(), clock + index * DAY)
            store = memory._store()
            fts = Fts5Retriever()
            fts.use(store)
            contents = {m.content: m.id for m in store.all(include_history=False)}
            for query in user.queries:
                session = f"u{number}-later"
                results = {
                    "fts5 alone": recall(store, [fts], query.text, session, memory.config, limit=5, ranked=False),
                    "ranked blend": recall(store, [fts], query.text, session, memory.config, limit=5),
                }
                if "blend + embeddings" in modes:
                    results["blend + embeddings"] = recall(store, memory.retrievers, query.text, session,
                                                           memory.config, limit=5)
                if query.expected is None:
                    unanswered += 1
                    for mode in modes:
                        spurious[mode] += bool(results[mode])
                    continue
                target = contents.get(query.expected)
                stored += target is not None
                missing += target is None
                for mode in modes:
                    ids = [r.memory.id for r in results[mode]]
                    ranks[mode].append(ids.index(target) + 1 if target in ids else None)
            await memory.close()
    figures = {}
    for mode in modes:
        found = ranks[mode]
        figures[mode] = {
            "recall@5": sum(1 for r in found if r is not None) / len(found),
            "mrr": sum(1 / r for r in found if r is not None) / len(found),
            "injected for unanswerable": spurious[mode] / max(1, unanswered),
        }
    figures["_set"] = {"queries": len(ranks[modes[0]]), "unanswerable": unanswered,
                       "right memory stored by extraction": stored / max(1, stored + missing)}
    return figures


def _age_all(store: MemoryStore, when: float) -> None:
    """Date the memories learnt in the session just played (those not dated yet)."""
    store.connection.execute("BEGIN IMMEDIATE")
    store.connection.execute("UPDATE memories SET created_at = ?, updated_at = ? WHERE created_at > ?",
                             (when, when, when + DAY / 2))
    store.connection.execute("COMMIT")


# --------------------------------------------------------------------------- 2. latency

WORDS = [w.strip() for w in """
python rust java go typescript react vue svelte postgres mysql sqlite redis kafka docker kubernetes helm terraform
aws gcp azure lambda s3 bucket queue worker scheduler cron api endpoint route handler middleware auth token oauth
login session cookie cache index query migration schema table column invoice billing tax currency payment refund
order customer product cart checkout shipping warehouse inventory report export import csv json yaml parser lexer
compiler test fixture mock coverage lint format style editor vim emacs vscode theme font terminal shell bash zsh
deploy release staging production rollback feature flag metric alert dashboard log trace span latency throughput
memory cpu disk network timeout retry backoff circuit breaker pool connection thread async await future promise
team office berlin tokyo meeting standup sprint review design document readme changelog version tag branch merge
""".split()]
VERBS = ("prefer", "decided to use", "always use", "runs on", "depends on", "chose", "like", "switched to", "is")
SUBJECTS = ("I", "We", "Our service", "The team", "The billing module", "My project", "Our API", "The worker")


def vocabulary(size: int = 20000, seed: int = 5) -> list[str]:
    """``WORDS`` then made-up words (syllables), ``size`` in all, most frequent first."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ter", "va", "on", "ex", "pra", "du", "sel", "rin", "gor", "tu", "bel", "qua", "zen"]
    made = dict.fromkeys(WORDS)
    while len(made) < size:
        made.setdefault("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))), None)
    return list(made)


def synthetic(count: int, seed: int = 11) -> list[tuple[str, str, str, float]]:
    """``count`` memories: (content, type, scope, created_at). Words follow a Zipf-Mandelbrot
    law over a 20k vocabulary (weight 1/(rank+50)): the commonest content word is in about 2%
    of memories, as in written text once stop words are gone."""
    rng = random.Random(seed)
    words_by_rank = vocabulary()
    weights = list(itertools.accumulate(1 / (rank + 50) for rank in range(len(words_by_rank))))
    now = time.time()
    rows = []
    for number in range(count):
        words = rng.choices(words_by_rank, cum_weights=weights, k=rng.randint(3, 7))
        content = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {' '.join(words)} (note {number})."
        rows.append((content, rng.choice(("preference", "decision", "fact")), "global", now - rng.random() * 60 * DAY))
    return rows


def fill(home: str, count: int) -> Path:
    directory = Path(home) / PLUGIN_NAME
    directory.mkdir(parents=True, exist_ok=True)
    store = MemoryStore(directory / DB_NAME)
    store.connection.execute("BEGIN IMMEDIATE")
    store.connection.executemany(
        "INSERT INTO memories (content, type, scope, importance, created_at, updated_at, source)"
        " VALUES (?, ?, ?, 0.6, ?, ?, 'bench')", [(c, t, s, when, when) for c, t, s, when in synthetic(count)])
    store.connection.execute("COMMIT")
    store.close()
    return directory / DB_NAME


def queries(count: int, seed: int = 13) -> list[str]:
    """Requests drawn from the same word law as the memories."""
    rng = random.Random(seed)
    words_by_rank = vocabulary()
    weights = list(itertools.accumulate(1 / (rank + 50) for rank in range(len(words_by_rank))))
    templates = ("how do we {a} the {b}?", "fix the {a} {b} {c}", "write a {a} for the {b} and the {c}", "{a} {b}")
    found = []
    for _ in range(count):
        a, b, c = rng.choices(words_by_rank, cum_weights=weights, k=3)
        found.append(rng.choice(templates).format(a=a, b=b, c=c))
    return found


async def latency(size: int, samples: int, with_embeddings: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lynkr-bench-memory-") as home:
        started_at = time.perf_counter()
        path = fill(home, size)
        fill_seconds = time.perf_counter() - started_at
        memory = await started(home, with_embeddings=with_embeddings, MEMORY_MAX_COUNT="0", MEMORY_MAX_AGE_DAYS="0")
        open_seconds = time.perf_counter() - started_at - fill_seconds
        store = MemoryStore(path)
        fts = Fts5Retriever()
        fts.use(store)
        texts = queries(samples)
        result: dict[str, Any] = {"memories": size, "fill_s": round(fill_seconds, 2), "start_s": round(open_seconds, 2)}
        for label, retrievers in (("fts5", [fts]), ("with embeddings", memory.retrievers if with_embeddings else None)):
            if retrievers is None:
                continue
            for text in texts[:50]:  # warm the page cache
                recall(store, retrievers, text, "s", memory.config)
            times, cpu = [], []
            injected = 0
            for text in texts:
                start, start_cpu = time.perf_counter(), time.thread_time()
                found = recall(store, retrievers, text, "s", memory.config)
                cpu.append(time.thread_time() - start_cpu)
                times.append(time.perf_counter() - start)
                injected += bool(found)
            result[f"recall {label}"] = _ms(times)
            result[f"recall {label} (CPU time)"] = _ms(cpu)
            result[f"recall {label}"]["with results"] = round(injected / len(texts), 3)
        if not with_embeddings:
            prepare = []
            for text in texts[:2000]:
                body = {"model": "m", "max_tokens": 10, "system": "You are helpful.",
                        "messages": [{"role": "user", "content": text}]}
                request = anthropic.decode_request(json.dumps(body).encode())
                context = RequestContext(request_id="b", http=None, settings=memory._services.settings,  # type: ignore[arg-type,union-attr]
                                         log=structlog.get_logger("bench"), session_id="s", purpose="count_tokens")
                start = time.perf_counter()
                await memory.prepare(request, context)
                prepare.append(time.perf_counter() - start)
            result["preparer (thread hop, ranking, injection)"] = _ms(prepare)
        stats = store.stats()
        result["bytes per memory"] = round(stats.bytes / max(1, stats.active))
        store.close()
        await memory.close()
    return result


def _ms(times: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(times) * 1e3, 3), "p99_ms": round(percentile(times, 0.99) * 1e3, 3),
            "max_ms": round(max(times) * 1e3, 3)}


# --------------------------------------------------------------------------- main


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=300, help="evaluation users (default 300)")
    parser.add_argument("--sizes", default="10000,100000", help="memory counts to time retrieval at")
    parser.add_argument("--samples", type=int, default=3000, help="queries timed per size")
    parser.add_argument("--quick", action="store_true", help="60 users, 10k memories, 1000 queries")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--min-similarity", default="", help="MEMORY_EMBEDDINGS_MIN_SIMILARITY for the quality run")
    parser.add_argument("--skip-latency", action="store_true", help="retrieval quality and extraction only")
    parser.add_argument("--skip-quality", action="store_true", help="retrieval latency only")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.sizes, args.samples = 60, "10000", 1000
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))

    users = generate(args.users)
    extraction: list[float] = []
    env = {"MEMORY_EMBEDDINGS_MIN_SIMILARITY": args.min_similarity} if args.min_similarity else {}
    figures: dict[str, Any] = {}
    if not args.skip_quality:
        figures["quality"] = await quality(users, extraction, env)
        figures["extraction per exchange (CPU time)"] = _ms(extraction) | {"exchanges": len(extraction)}
    figures["load average at start"] = os.getloadavg()[0]
    figures["latency"] = []
    for size in ([] if args.skip_latency else (int(s) for s in args.sizes.split(","))):
        figures["latency"].append(await latency(size, args.samples, with_embeddings=False))
        if lynkr_memory_embeddings is not None:
            timed = await latency(size, min(args.samples, 1000), with_embeddings=True)
            figures["latency"][-1]["recall with embeddings"] = timed["recall with embeddings"]
            figures["latency"][-1]["recall with embeddings (CPU time)"] = timed["recall with embeddings (CPU time)"]
            figures["latency"][-1]["bytes per memory with embeddings"] = timed["bytes per memory"]
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    if "quality" in figures:
        print(f"retrieval quality: {args.users} users, {figures['quality']['_set']}")
        print(f"  {'mode':<22} {'recall@5':>9} {'MRR':>7} {'injected for unanswerable':>26}")
        for mode, row in figures["quality"].items():
            if not mode.startswith("_"):
                print(f"  {mode:<22} {row['recall@5']:>9.3f} {row['mrr']:>7.3f} "
                      f"{row['injected for unanswerable']:>26.3f}")
        e = figures["extraction per exchange (CPU time)"]
        print(f"extraction per exchange, CPU time ({e['exchanges']}): p50 {e['p50_ms']} ms, p99 {e['p99_ms']} ms")
    print(f"load average (1 min) when timing started: {figures['load average at start']:.1f}")
    for row in figures["latency"]:
        print(f"retrieval at {row['memories']} memories (filled in {row['fill_s']} s, started in {row['start_s']} s), "
              f"{row['bytes per memory']} bytes per memory:")
        for key, value in row.items():
            if isinstance(value, dict):
                print(f"  {key:<45} p50 {value['p50_ms']:>7} ms  p99 {value['p99_ms']:>7} ms  max {value['max_ms']:>7} ms"
                      + (f"  results for {value['with results']:.0%} of queries" if "with results" in value else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
