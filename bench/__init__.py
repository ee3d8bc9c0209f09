"""lynkr's benchmark suite: `python -m bench [--quick]` (or `nox -s bench`).

- `bench.upstream`: a cheap scripted upstream (OpenAI chat completions and
  Anthropic messages, JSON or SSE), one process for the whole run;
- `bench.load`: the asyncio load generator, which validates every answer;
- `bench.run`: starts each target fresh, warms it up, runs the timed windows
  and measures the proxy's process tree (CPU, RSS) with psutil;
- `bench.report`: the markdown table of a results file;
- `bench.reference_proxy`: the minimal translating proxy lynkr is compared to.
"""
