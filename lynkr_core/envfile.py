"""``lynkr init``: write a commented ``.env`` for one provider.

What to ask for comes from the provider (``Provider.settings_help``), never
from the core. On a terminal, ``lynkr init`` asks for the provider and each of
its settings (secrets with ``getpass``); ``--provider`` and ``--set`` give the
same answers without asking. The file is written with mode 0600, and an
existing one is kept unless ``--force``. A secret's value is never printed,
not even masked: the summary says "set".
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from lynkr_core.app import build_pipeline
from lynkr_core.config import SECRET_MARKERS, ConfigError, Settings
from lynkr_core.contracts import Provider, SettingHelp
from lynkr_core.guidance import unregistered_message
from lynkr_core.plugins import make_plugin_manager

#: A variable name ``--set`` accepts.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: Values written as they are; any other is single-quoted, which python-dotenv reads literally.
_PLAIN = re.compile(r"[A-Za-z0-9_./:@%+,=-]*\Z")

Ask = Callable[[str], str]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``lynkr init``'s options."""
    parser.add_argument("--provider", help="the provider to configure (default: ask on the terminal)")
    parser.add_argument(
        "--set", dest="assignments", action="append", default=[], metavar="NAME=VALUE",
        help="a setting to write (repeatable); with --provider nothing is asked",
    )
    parser.add_argument("--path", default=".env", help="the file to write (default .env)")
    parser.add_argument("--force", action="store_true", help="overwrite the file if it exists")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Write the file; 1 when it exists (without ``--force``), 2 on a bad answer or option."""
    providers = {p.name: p for p in build_pipeline(settings, make_plugin_manager(settings)).providers}
    values = parse_assignments(args.assignments)
    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"lynkr init: {path} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    if args.provider is None:
        if not sys.stdin.isatty():
            raise ConfigError("init: no terminal to ask on; pass --provider NAME and --set NAME=VALUE")
        try:
            name, values = ask_answers(providers, settings.core.model_provider, values)
        except EOFError:
            print("\nlynkr init: cancelled; nothing written", file=sys.stderr)
            return 1
    else:
        name = args.provider
        if name not in providers:
            raise ConfigError(f"init: {unregistered_message('MODEL_PROVIDER', name, providers)}")
    helps = providers[name].settings_help()
    try:
        write_private(path, render(name, helps, values), force=args.force)
    except FileExistsError:
        print(f"lynkr init: {path} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    report(path, name, helps, values)
    return 0


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """``NAME=VALUE`` options as a dict; ``ConfigError`` for a malformed one."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name):
            raise ConfigError(f"init: --set {name or item!r}: write NAME=VALUE")
        if name == "MODEL_PROVIDER":
            raise ConfigError("init: choose the provider with --provider, not --set MODEL_PROVIDER")
        _check_value(name, value)
        values[name] = value
    return values


def ask_answers(
    providers: Mapping[str, Provider],
    default: str,
    given: Mapping[str, str],
    *,
    ask: Ask | None = None,
    ask_secret: Ask | None = None,
    out: TextIO | None = None,
) -> tuple[str, dict[str, str]]:
    """Ask for the provider, then for each of its settings not in ``given``: the provider's
    name and every value answered (an empty answer keeps the default, or leaves it unset)."""
    ask = ask or input
    ask_secret = ask_secret or getpass.getpass
    out = out or sys.stdout
    names = sorted(providers)
    if not names:
        raise ConfigError("init: no provider is installed; lynkr plugins lists what is")
    if default not in providers:
        default = names[0]
    print("Installed providers: " + ", ".join(names), file=out)
    while True:
        name = ask(f"Provider [{default}]: ").strip() or default
        if name in providers:
            break
        print(f"  {name!r} is not installed; choose one of: {', '.join(names)}", file=out)
    values = dict(given)
    print(f"Settings of {name} (Enter keeps the default shown; secrets are not echoed):", file=out)
    for setting in providers[name].settings_help():
        if setting.name in values:
            continue
        label = f"{setting.name}: {setting.help}" + (" (required)" if setting.required else "")
        if setting.secret:
            answer = ask_secret(f"{label} [hidden]: ")
        else:
            answer = ask(f"{label} [{setting.default or ''}]: ").strip()
        if answer:
            _check_value(setting.name, answer)
            values[setting.name] = answer
    return name, values


def render(provider: str, helps: Sequence[SettingHelp], values: Mapping[str, str]) -> str:
    """The ``.env`` text: ``MODEL_PROVIDER``, then each setting with its help line, set when
    ``values`` has it, else commented out with its default; other ``values`` at the end."""
    lines = [
        f"# lynkr settings for MODEL_PROVIDER={provider}, written by `lynkr init`.",
        "# lynkr reads this file from the directory it starts in (or the file LYNKR_ENV_FILE names);",
        "# variables set in the environment win over it. Keep it private: it may hold keys.",
        "",
        f"MODEL_PROVIDER={_quote(provider)}",
    ]
    for setting in helps:
        notes = [n for n, on in (("required", setting.required), ("secret", setting.secret)) if on]
        lines += ["", f"# {setting.help}" + (f" ({', '.join(notes)})" if notes else "")]
        if setting.name in values:
            lines.append(f"{setting.name}={_quote(values[setting.name])}")
        else:
            lines.append(f"# {setting.name}={setting.default or ''}")
    known = {setting.name for setting in helps}
    others = [name for name in values if name not in known]
    if others:
        lines += ["", "# Other settings"]
        lines += [f"{name}={_quote(values[name])}" for name in others]
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to ``path`` with mode 0600; ``FileExistsError`` when it exists and not
    ``force`` (an overwrite replaces the file whole, never leaving it half written)."""
    if not force:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        return
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:  # mkstemp makes it 0600
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def report(path: Path, provider: str, helps: Sequence[SettingHelp], values: Mapping[str, str]) -> None:
    """Say where the file went, what it sets (secrets as "set"), what is still missing and
    what to run next."""
    secret = {setting.name for setting in helps if setting.secret}
    print(f"wrote {path} (mode 0600) for MODEL_PROVIDER={provider}")
    for name, value in values.items():
        shown = "set" if name in secret or _looks_secret(name) else value
        print(f"  {name}: {shown}")
    missing = [setting.name for setting in helps if setting.required and setting.name not in values]
    if missing:
        print(f"still to set: {', '.join(missing)} (in {path} or the environment)")
    overridden = sorted(name for name in ("MODEL_PROVIDER", *values) if name in os.environ)
    if overridden:
        print(f"note: set in the environment, which wins over {path}: {', '.join(overridden)}")
    print("next: lynkr start")


def _check_value(name: str, value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ConfigError(f"init: {name}: a value must be one line")


def _quote(value: str) -> str:
    """``value`` as python-dotenv reads it back unchanged (no interpolation, no comment)."""
    if _PLAIN.match(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _looks_secret(name: str) -> bool:
    return any(marker in name.lower() for marker in SECRET_MARKERS)
