"""Peer gateways for ``python -m bench --peers`` (``nox -s bench_peers``).

Each peer is installed from its own registry into ``.tools/bench-peers/``
(gitignored), never into the project's environment; installing is skipped when
the peer is already there. `launch` writes the peer's configuration into the
run's temporary directory and returns how to start it:

- ``litellm``: LiteLLM's proxy (PyPI ``litellm[proxy]``) in its own venv
  (``uv venv`` + ``uv pip install``), one model named as `bench.load` asks
  (``claude-sonnet-4-5``) routed to ``openai/gpt-4o`` at the bench upstream's
  ``/v1``, served on Anthropic's ``/v1/messages`` (its unified endpoint) through
  chat completions (``use_chat_completions_url_for_anthropic_messages``; its
  default for ``openai/`` models is the Responses API, which the upstream does
  not serve); no master key (allowed explicitly: loopback only), telemetry off,
  ready on ``GET /health/liveliness``;
- ``claude-code-router``: npm ``@musistudio/claude-code-router`` run with node
  (``ccr start``, foreground), ``HOME`` a temporary directory holding
  ``.claude-code-router/config.json``: one provider whose ``api_base_url`` is
  the upstream's chat completions, ``Router.default`` ``"bench,gpt-4o"``,
  logging off; ready on ``GET /health``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "bench-peers"
LITELLM_DIR = TOOLS / "litellm"
CCR_DIR = TOOLS / "ccr"
CCR_PACKAGE = "@musistudio/claude-code-router"
CCR_CLI = CCR_DIR / "node_modules" / "@musistudio" / "claude-code-router" / "dist" / "cli.js"
PEERS = ("litellm", "claude-code-router")


@dataclasses.dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str]  # added to the target's environment
    cwd: Path
    health: str  # path answering 200 once the peer is ready


def _run(argv: list[str], cwd: Path | None = None) -> None:
    print(f"bench peers: {' '.join(argv)}", file=sys.stderr)
    subprocess.run(argv, cwd=cwd, check=True, stdout=sys.stderr)


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise RuntimeError(f"{tool} is not on PATH (needed to install the bench peers)")
    return path


def ensure_litellm() -> Path:
    """The ``litellm`` entry point of the isolated venv, installed first if missing."""
    exe = LITELLM_DIR / "bin" / "litellm"
    if not exe.exists():
        uv = _need("uv")
        TOOLS.mkdir(parents=True, exist_ok=True)
        if not (LITELLM_DIR / "bin" / "python").exists():
            _run([uv, "venv", "--quiet", str(LITELLM_DIR)])
        _run(
            [
                uv,
                "pip",
                "install",
                "--python",
                str(LITELLM_DIR / "bin" / "python"),
                "litellm[proxy]",
            ]
        )
    return exe


def ensure_ccr() -> Path:
    """claude-code-router's ``cli.js``, installed with npm first if missing."""
    if not CCR_CLI.exists():
        npm = _need("npm")
        CCR_DIR.mkdir(parents=True, exist_ok=True)
        _run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(CCR_DIR), CCR_PACKAGE])
    return CCR_CLI


def ensure(name: str) -> None:
    {"litellm": ensure_litellm, "claude-code-router": ensure_ccr}[name]()


def version(name: str) -> str | None:
    """The installed peer's version, or None."""
    try:
        if name == "litellm":
            (meta,) = (LITELLM_DIR / "lib").glob(
                "python*/site-packages/litellm-*.dist-info/METADATA"
            )
            for line in meta.read_text().splitlines():
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
        elif name == "claude-code-router":
            return json.loads((CCR_CLI.parent.parent / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    return None


def launch(name: str, port: int, upstream_port: int, work: Path) -> Launch:
    """Write the peer's configuration under ``work/name`` and say how to start it."""
    home = work / name
    home.mkdir(exist_ok=True)
    if name == "litellm":
        from bench.load import MODEL

        config = home / "config.yaml"
        config.write_text(  # JSON is YAML
            json.dumps(
                {
                    "model_list": [
                        {
                            "model_name": MODEL,
                            "litellm_params": {
                                "model": "openai/gpt-4o",
                                "api_base": f"http://127.0.0.1:{upstream_port}/v1",
                                "api_key": "bench-dummy",
                            },
                        }
                    ],
                    "litellm_settings": {
                        "telemetry": False,
                        "use_chat_completions_url_for_anthropic_messages": True,
                    },
                },
                indent=1,
            )
        )
        argv = [str(ensure_litellm()), "--config", str(config), "--host", "127.0.0.1"]
        argv += ["--port", str(port)]
        env = {
            "HOME": str(home),
            "LITELLM_TELEMETRY": "False",
            "LITELLM_LOG": "ERROR",
            "DISABLE_ADMIN_UI": "True",
            "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the cost map at start
        }
        return Launch(argv, env, home, "/health/liveliness")
    if name == "claude-code-router":
        config_dir = home / ".claude-code-router"
        config_dir.mkdir(exist_ok=True)
        (config_dir / "config.json").write_text(
            json.dumps(
                {
                    "PORT": port,
                    "HOST": "127.0.0.1",
                    "LOG": False,
                    "NON_INTERACTIVE_MODE": True,
                    "Providers": [
                        {
                            "name": "bench",
                            "api_base_url": f"http://127.0.0.1:{upstream_port}/v1/chat/completions",
                            "api_key": "bench-dummy",
                            "models": ["gpt-4o"],
                        }
                    ],
                    "Router": {"default": "bench,gpt-4o"},
                },
                indent=1,
            )
        )
        argv = [_need("node"), str(ensure_ccr()), "start"]
        return Launch(argv, {"HOME": str(home)}, home, "/health")
    raise ValueError(f"unknown peer {name}")
