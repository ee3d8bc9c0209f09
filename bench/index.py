"""The indexer's benchmark: ``python -m bench.index`` (``nox -s bench_index``).

The corpus is a real code base of over 5,000 source files found on this machine, copied
together into a temporary directory: the CPython standard library of the running
interpreter (its ``lib/python3.X`` without ``site-packages``: Python) and the system's
``/usr/include`` (Debian's C and C++ headers). Then, in one run:

1. universal-ctags (``/usr/bin/ctags -R``) over the corpus, single-threaded, definitions
   only: the floor lynkr's time is given as a ratio of;
2. lynkr's cold index (definitions, references, imports, resolution, project facts) with
   a process pool of ``--workers`` (default: one per CPU): files/s, symbols/s, peak RSS of
   the main process and of the largest worker, database size;
3. an incremental re-index after changing 10 files (a function appended to each);
4. repo-map queries: the first after an index change (graph built and ranked), 30
   personalised toward a mentioned file (the files a text names found, a seeded PageRank,
   the map fitted), and a repeat (cached).

Timing is wall clock on a shared machine: run it when the machine is quiet, and compare
the ratio to ctags rather than the absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import anthropic_tokenizer
from lynkr_indexer.db import connect, get_meta
from lynkr_indexer.indexer import IndexOptions, index_workspace
from lynkr_indexer.languages import language_for
from lynkr_indexer.repomap import RepoMapper

CTAGS = "/usr/bin/ctags"


def build_corpus(target: Path) -> dict[str, str]:
    """Copy the sources into ``target``; where each part came from."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts = {"cpython-stdlib": stdlib, "usr-include": Path("/usr/include")}
    for name, source in parts.items():
        shutil.copytree(source, target / name, symlinks=False, ignore_dangling_symlinks=True,
                        ignore=_not_source, dirs_exist_ok=True)
    return {name: str(source) for name, source in parts.items()}


def _not_source(folder: str, names: list[str]) -> list[str]:
    ignored = []
    for name in names:
        path = os.path.join(folder, name)
        if name in ("site-packages", "__pycache__"):
            ignored.append(name)
        elif not os.path.isdir(path) and language_for(name) is None:
            ignored.append(name)
    return ignored


def cpu_seconds(who: int) -> float:
    """User and system CPU time of this process (``RUSAGE_SELF``) or of its reaped children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class Clock:
    """Wall time, and CPU time of this process and of the children reaped meanwhile (the
    parsing workers, ctags): on a shared machine CPU time is what can be compared."""

    def __enter__(self) -> Clock:
        self.wall = time.perf_counter()
        self.main = cpu_seconds(resource.RUSAGE_SELF)
        self.children = cpu_seconds(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.main = cpu_seconds(resource.RUSAGE_SELF) - self.main
        self.children = cpu_seconds(resource.RUSAGE_CHILDREN) - self.children

    def idle_estimate(self, workers: int) -> float:
        """The wall time on an idle machine with ``workers`` CPUs for the children: the main
        process and the workers run side by side, so the longer of the two."""
        return max(self.main, self.children / max(1, workers))

    def as_dict(self) -> dict[str, float]:
        return {"wall_s": round(self.wall, 2), "main_cpu_s": round(self.main, 2),
                "children_cpu_s": round(self.children, 2)}


def run_ctags(corpus: Path, out: Path) -> tuple[Clock, int]:
    """How long ctags took over the corpus (same languages), and the tags it wrote."""
    with Clock() as clock:
        subprocess.run([CTAGS, "-R", "--languages=Python,C,C++", "-f", str(out), str(corpus)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with out.open("rb") as handle:
        tags = sum(1 for line in handle if not line.startswith(b"!_"))
    return clock, tags


def change_files(corpus: Path, count: int) -> list[str]:
    """Append a function to ``count`` Python files spread over the corpus."""
    files = sorted(corpus.rglob("*.py"))
    chosen = files[:: max(1, len(files) // count)][:count]
    for n, path in enumerate(chosen):
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"\n\ndef bench_added_{n}(value):\n    return value\n")
    return [str(p.relative_to(corpus)) for p in chosen]


def median_ms(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def personalised_queries(mapper: RepoMapper, connection, generation: int, changed: list[str],
                         budgets: tuple[int, ...] = (1024, 1000, 2048)) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of personalised repo-map queries as the preparer and the
    ``workspace_repo_map`` tool make them (the files a text mentions, then the map), one
    per changed file and budget: none is a repeat, so none is served from the cache."""
    wall, cpu = [], []
    for budget in budgets:
        for path in changed:
            started, started_cpu = time.perf_counter(), time.process_time()
            mentioned = mapper.mentioned_files(connection, generation, f"please look at {path}")
            mapper.render(connection, generation, budget=budget, mentioned=mentioned)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=0, help="parsing processes (default: one per CPU)")
    parser.add_argument("--changed", type=int, default=10, help="files changed before the incremental run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    if not Path(CTAGS).exists():
        print(f"{CTAGS} is missing: apt-get install universal-ctags", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="lynkr-bench-index-") as tmp:
        corpus, db_file = Path(tmp) / "corpus", Path(tmp) / "index.db"
        print("copying the corpus ...", file=sys.stderr)
        sources = build_corpus(corpus)
        files = sum(1 for p in corpus.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file())
        print(f"corpus: {files} source files, {size / 1e6:.0f} MB", file=sys.stderr)
        ctags_clock, tags = run_ctags(corpus, Path(tmp) / "tags")
        ctags_seconds = ctags_clock.children
        options = IndexOptions(workers=args.workers)
        workers = args.workers or os.cpu_count() or 1
        connection = connect(db_file)
        print("cold index ...", file=sys.stderr)
        with Clock() as cold_clock:
            cold = index_workspace(connection, corpus, options)
        changed = change_files(corpus, args.changed)
        with Clock() as incremental_clock:
            incremental = index_workspace(connection, corpus, options)
        generation = int(get_meta(connection, "generation"))
        anthropic_tokenizer.count_tokens("warm up")  # its vocabulary loads once per process
        mapper = RepoMapper()
        first_map_ms = median_ms(lambda: RepoMapper().render(connection, generation, budget=1024), 3)
        mapper.render(connection, generation, budget=1024)
        personalised, personalised_cpu = personalised_queries(mapper, connection, generation, changed)
        cached_ms = median_ms(lambda: mapper.render(connection, generation, budget=1024), 20)
        references = connection.execute("SELECT COUNT(*) FROM refs").fetchone()[0]
        resolved = connection.execute("SELECT COUNT(target_id) FROM refs").fetchone()[0]
        connection.close()
        db_bytes = db_file.stat().st_size + sum(p.stat().st_size for p in db_file.parent.glob("index.db-*"))
    main_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    figures = {
        "corpus": {"sources": sources, "files": files, "bytes": size},
        "cpus": os.cpu_count(),
        "workers": args.workers or os.cpu_count(),
        "ctags": {**ctags_clock.as_dict(), "tags": tags},
        "cold": {**cold.as_dict(), **cold_clock.as_dict(), "files_per_second": round(cold.parsed / cold.seconds),
                 "symbols_per_second": round(cold.symbols / cold.seconds),
                 "cpu_ratio_to_ctags": round((cold_clock.main + cold_clock.children) / ctags_seconds, 2),
                 "idle_estimate_s": round(cold_clock.idle_estimate(workers), 2),
                 "idle_estimate_ratio_to_ctags": round(cold_clock.idle_estimate(workers) / ctags_seconds, 2)},
        "references": {"total": references, "resolved": resolved},
        "incremental": {**incremental.as_dict(), **incremental_clock.as_dict(), "changed": len(changed)},
        "peak_rss_mb": {"main": round(main_rss), "largest_worker_or_ctags": round(worker_rss)},
        "database_mb": round(db_bytes / 1e6, 1),
        "repo_map_ms": {"after_index_change": round(first_map_ms, 1),
                        "personalised_median": round(statistics.median(personalised), 1),
                        "personalised_max": round(max(personalised), 1),
                        "personalised_cpu_median": round(statistics.median(personalised_cpu), 1),
                        "personalised_queries": len(personalised), "cached": round(cached_ms, 3)},
    }
    print(f"""
corpus          {files} files, {size / 1e6:.0f} MB ({', '.join(sources)})
ctags           {ctags_clock.wall:.2f} s wall, {ctags_seconds:.2f} s CPU, {tags} tags (definitions only, 1 process)
lynkr cold      {cold.seconds:.2f} s wall, CPU {cold_clock.main:.2f} s main + {cold_clock.children:.2f} s in {workers} workers
                = {figures['cold']['cpu_ratio_to_ctags']}x ctags' CPU; on an idle machine about {figures['cold']['idle_estimate_s']} s
                ({figures['cold']['idle_estimate_ratio_to_ctags']}x ctags); {cold.parsed} files parsed,
                {figures['cold']['files_per_second']} files/s, {cold.symbols} symbols ({figures['cold']['symbols_per_second']}/s) (wall),
                {references} references ({resolved} resolved), {cold.skipped} skipped, {cold.errors} failed
incremental     {incremental.seconds:.3f} s wall ({incremental_clock.main:.2f} s CPU) after changing {len(changed)} files ({incremental.parsed} parsed)
peak RSS        main {main_rss:.0f} MB, largest child (worker or ctags) {worker_rss:.0f} MB
database        {figures['database_mb']} MB
repo map        {first_map_ms:.0f} ms after an index change (graph + rank + render),
                {figures['repo_map_ms']['personalised_median']} ms personalised (median of {len(personalised)}, max {figures['repo_map_ms']['personalised_max']};
                CPU {figures['repo_map_ms']['personalised_cpu_median']} ms), mentioned files found and map rendered,
                {cached_ms:.3f} ms repeated (cached)""")
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
