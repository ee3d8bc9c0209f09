"""``python -m bench [--quick] [--out bench/results/latest.json]``: see `bench.run`."""

from bench.run import main

raise SystemExit(main())
