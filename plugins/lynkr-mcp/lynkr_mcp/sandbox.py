"""How a stdio server is launched: an empty environment plus an allowlist plus its
manifest's ``env``, in its own working directory, and under bubblewrap when it is
installed and sandboxing is on.

Under bubblewrap the server sees ``/usr`` (and the ``/bin``, ``/lib`` links), a few
files of ``/etc`` that programs need (the dynamic linker cache, TLS roots, time zone,
users), the installation its command lives in (a virtualenv, a uv-managed Python, a
Node prefix), files named in its arguments, read-only; the workspace read-only (or
read-write with ``MCP_SANDBOX_WORKSPACE_WRITABLE``); its own working directory
read-write (also its ``HOME``); an empty ``/tmp``; and no network but its own
loopback unless ``MCP_SANDBOX_ALLOW_NETWORKING``. Everything else is hidden.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lynkr_mcp.manifests import ServerSpec

#: Files and directories of /etc a program may need, shown read-only when they exist.
ETC_ENTRIES = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "ssl", "ca-certificates", "pki", "localtime",
    "timezone", "passwd", "group", "nsswitch.conf", "hosts", "resolv.conf", "alternatives",
    "mime.types", "os-release", "host.conf", "gai.conf",
)

#: Top-level directories that merged-/usr systems make links into /usr.
USR_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


@dataclass(frozen=True, slots=True)
class SandboxOptions:
    """How stdio servers run; ``bwrap`` is the bubblewrap binary, ``None`` for no sandbox."""

    bwrap: str | None
    workspace: Path
    passthrough: tuple[str, ...]
    mount_workspace: bool = True
    workspace_writable: bool = False
    allow_networking: bool = False
    extra_mounts: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for ``lynkr mcp list`` and ``lynkr doctor``."""
        if self.bwrap is None:
            return "environment allowlist only (bubblewrap off or not installed)"
        workspace = ("read-write" if self.workspace_writable else "read-only") if self.mount_workspace else "hidden"
        network = "allowed" if self.allow_networking else "none"
        return f"bubblewrap: workspace {workspace}, network {network}"


@dataclass(frozen=True, slots=True)
class Launch:
    """The program to run, its arguments and environment, and where."""

    command: str
    args: list[str]
    env: dict[str, str]
    cwd: Path


def find_bwrap(enabled: bool) -> str | None:
    """The bubblewrap binary when sandboxing is on and it is installed."""
    return shutil.which("bwrap") if enabled else None


def launch(spec: ServerSpec, options: SandboxOptions, workdir: Path, environ: Mapping[str, str]) -> Launch:
    """The launch of ``spec`` (its working directory created): ``env -i`` (so nothing else of lynkr's environment leaks,
    whatever the SDK adds), inside bubblewrap when ``options.bwrap`` is set."""
    cwd = Path(spec.cwd).expanduser() if spec.cwd else workdir
    cwd.mkdir(parents=True, exist_ok=True)
    env = {name: environ[name] for name in options.passthrough if name in environ}
    if options.bwrap is not None:
        env["HOME"] = str(cwd)
    env.update(spec.env)
    program = shutil.which(spec.command, path=env.get("PATH")) or spec.command
    inner = [_env_binary(), "-i", *(f"{k}={v}" for k, v in env.items()), program, *spec.args]
    if options.bwrap is None:
        return Launch(inner[0], inner[1:], {}, cwd)
    mounts = bwrap_arguments(options, cwd, program, spec.args)
    return Launch(options.bwrap, [*mounts, "--", *inner], {}, cwd)


def bwrap_arguments(options: SandboxOptions, cwd: Path, program: str, args: Sequence[str]) -> list[str]:
    """bubblewrap's arguments for a server run as ``program args`` in ``cwd``."""
    argv = ["--die-with-parent", "--new-session", "--unshare-all"]
    if options.allow_networking:
        argv.append("--share-net")
    argv += ["--ro-bind", "/usr", "/usr"]
    for name in USR_LINKS:
        top = Path("/") / name
        if top.is_symlink():
            argv += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            argv += ["--ro-bind", str(top), str(top)]
    for entry in ETC_ENTRIES:
        argv += ["--ro-bind-try", f"/etc/{entry}", f"/etc/{entry}"]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for root in _installations(program, args):
        argv += ["--ro-bind-try", str(root), str(root)]
    for mount in options.extra_mounts:
        argv += _extra_mount(mount)
    if options.mount_workspace:
        argv += ["--bind" if options.workspace_writable else "--ro-bind", str(options.workspace),
                 str(options.workspace)]
    argv += ["--bind", str(cwd), str(cwd), "--chdir", str(cwd)]
    return argv


def _installations(program: str, args: Sequence[str]) -> list[Path]:
    """What must be visible for ``program`` to run: the prefix it is installed in (the
    directory above its ``bin/``), for the path given and the one its links lead to, the
    same for the interpreter of a script's ``#!`` line (a virtualenv's entry point), and
    absolute paths among its arguments (a script)."""
    found: list[Path] = []
    for executable in (Path(program), *_interpreter(Path(program))):
        if executable.is_absolute():
            for candidate in (executable, executable.resolve()):
                prefix = candidate.parent.parent if candidate.parent.name == "bin" else candidate.parent
                if not _under_usr(prefix) and prefix != Path("/"):
                    found.append(prefix)
    for arg in args:
        candidate = Path(arg)
        if candidate.is_absolute() and candidate.exists() and not _under_usr(candidate):
            found.append(candidate)
    return list(dict.fromkeys(found))


def _interpreter(program: Path) -> list[Path]:
    """The interpreter a ``#!`` script names (``#!/usr/bin/env python3`` names none we need)."""
    try:
        with program.open("rb") as handle:
            first = handle.readline(512)
    except OSError:
        return []
    if not first.startswith(b"#!"):
        return []
    words = first[2:].decode(errors="replace").split()
    return [Path(words[0])] if words else []


def _under_usr(path: Path) -> bool:
    return path == Path("/usr") or Path("/usr") in path.parents


def _extra_mount(mount: str) -> list[str]:
    """``host[:inside][:ro|rw]`` as bubblewrap arguments (read-only by default)."""
    parts = mount.split(":")
    mode = "ro"
    if parts[-1] in ("ro", "rw"):
        mode = parts.pop()
    host = parts[0]
    inside = parts[1] if len(parts) > 1 and parts[1] else host
    return ["--bind-try" if mode == "rw" else "--ro-bind-try", host, inside]


def _env_binary() -> str:
    return shutil.which("env") or "/usr/bin/env"
