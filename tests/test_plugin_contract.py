"""The plugin contract, checked: every hook is documented with its real arguments, plugins
import only what ``lynkr_core`` exports and never each other, the exported names change only
on purpose, hooks run in pluggy's order, and the core's contract modules stay independent."""

from __future__ import annotations

import ast
import functools
import inspect
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog

import lynkr_core
from lynkr_core import Settings, hookspecs
from lynkr_core.plugins import HookFailed, make_plugin_manager
from lynkr_core.testing.plugins import inline_plugin

REPO = Path(__file__).resolve().parents[1]
HOOKS_DOC = REPO / "docs" / "hooks.md"
PUBLIC_API = REPO / "tests" / "fixtures" / "public_api.txt"
PLUGIN_ROOTS = (REPO / "plugins", REPO / "examples")
CORE = "lynkr_core"
TEST_KIT = "lynkr_core.testing"

# --------------------------------------------------------------------------- #
# Every hookspec is documented in docs/hooks.md, with its real arguments


def hookspec_functions() -> dict[str, Callable[..., Any]]:
    """The hookspecs: the functions of ``lynkr_core.hookspecs`` that carry pluggy's marker."""
    return {
        name: function
        for name, function in vars(hookspecs).items()
        if inspect.isfunction(function) and hasattr(function, "lynkr_spec")
    }


@functools.cache
def doc_sections() -> dict[str, str]:
    """The ``## `` sections of docs/hooks.md by heading (``#`` lines inside code fences are
    code, not headings). A heading used twice maps to both bodies joined, and is reported."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    in_fence = False
    for line in HOOKS_DOC.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.startswith("## "):
            heading = line[3:].strip()
            sections.setdefault(heading, [])
            current = sections[heading]
            if current:
                current.append(f"<<duplicate heading {heading!r}>>")
            continue
        elif not in_fence and line.startswith("# "):
            current = None
            continue
        if current is not None:
            current.append(line)
    return {heading: "\n".join(lines) for heading, lines in sections.items()}


def documented_parameters(section: str, hook: str) -> list[str] | None:
    """The parameter names of ``def <hook>(...)`` in ``section``'s first python code block,
    or ``None`` when that block has no such ``def``."""
    block = re.search(r"^```python\n(.*?)^```", section, flags=re.S | re.M)
    if block is None:
        return None
    code = block.group(1)
    start = re.search(rf"\bdef\s+{re.escape(hook)}\s*\(", code)
    if start is None:
        return None
    depth, end = 0, None
    for position in range(start.end() - 1, len(code)):
        depth += {"(": 1, ")": -1}.get(code[position], 0)
        if depth == 0:
            end = position
            break
    assert end is not None, f"docs/hooks.md, ## {hook}: unbalanced parentheses in the signature"
    definition = ast.parse(code[start.start() : end + 1] + ": ...").body[0]
    assert isinstance(definition, ast.FunctionDef)
    arguments = definition.args
    names = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    names += [a.arg for a in (arguments.vararg,) if a is not None]
    names += [a.arg for a in arguments.kwonlyargs]
    names += [a.arg for a in (arguments.kwarg,) if a is not None]
    return names


def test_hookspecs_are_found():
    assert len(hookspec_functions()) >= 10, sorted(hookspec_functions())


def test_no_heading_is_used_twice():
    twice = [heading for heading, body in doc_sections().items() if "<<duplicate heading" in body]
    assert not twice, f"docs/hooks.md has these headings more than once: {twice}"


@pytest.mark.parametrize("hook", sorted(hookspec_functions()))
def test_every_hookspec_is_documented_with_its_arguments(hook):
    spec = hookspec_functions()[hook]
    sections = doc_sections()
    assert hook in sections, (
        f"docs/hooks.md has no '## {hook}' section; every hookspec in lynkr_core/hookspecs.py "
        "needs one (signature, when it is called, arguments, return value, order, example)"
    )
    expected = list(inspect.signature(spec).parameters)
    documented = documented_parameters(sections[hook], hook)
    assert documented is not None, (
        f"docs/hooks.md, '## {hook}': the first python code block must be the signature, "
        f"def {hook}({', '.join(expected)})"
    )
    assert documented == expected, (
        f"docs/hooks.md, '## {hook}' documents def {hook}({', '.join(documented)}), "
        f"but the hookspec is def {hook}({', '.join(expected)})"
    )


def test_every_hook_section_documents_a_hookspec_that_exists():
    stale = sorted(
        heading for heading in doc_sections()
        if heading.startswith("lynkr_") and heading not in hookspec_functions()
    )
    assert not stale, (
        f"docs/hooks.md documents hooks that lynkr_core/hookspecs.py does not have: {stale}; "
        "remove or rename those sections"
    )


# --------------------------------------------------------------------------- #
# Plugins import only lynkr_core's exports (tests: and the test kit), never another plugin


def plugin_dirs() -> list[Path]:
    """Every plugin distribution under plugins/ and examples/ (a folder with a pyproject)."""
    return sorted(
        path for root in PLUGIN_ROOTS for path in root.iterdir()
        if (path / "pyproject.toml").is_file()
    )


def packages_of(plugin_dir: Path) -> set[str]:
    """The top-level packages a plugin distribution provides: its ``lynkr`` entry points'
    modules, the wheel's packages, and package folders at its top."""
    project = tomllib.loads((plugin_dir / "pyproject.toml").read_text(encoding="utf-8"))
    entry_points = project.get("project", {}).get("entry-points", {}).get("lynkr", {})
    packages = {target.split(":")[0].split(".")[0] for target in entry_points.values()}
    wheel = project.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    packages |= {Path(package).name for package in wheel.get("packages", [])}
    packages |= {
        child.name for child in plugin_dir.iterdir()
        if child.is_dir() and (child / "__init__.py").is_file() and child.name != "tests"
    }
    return packages


def python_files(plugin_dir: Path) -> list[Path]:
    """Every .py file of a plugin (its package and its tests), skipping caches and build output."""
    skipped = {"__pycache__", "build", "dist", "node_modules"}
    return sorted(
        path for path in plugin_dir.rglob("*.py")
        if not any(part in skipped or part.startswith(".") for part in path.relative_to(plugin_dir).parts)
    )


def import_violations(source: str, where: str, *, in_tests: bool, others: dict[str, str]) -> list[str]:
    """What ``source`` imports that a plugin may not: ``file:line: why`` for each.

    ``others`` maps the packages of every other plugin to that plugin's name.
    ``in_tests``: the file is a plugin's test, which may also use the test kit.
    """
    exported = set(lynkr_core.__all__)
    found: list[str] = []

    def kit_allowed(module: str) -> bool:
        return in_tests and (module == TEST_KIT or module.startswith(TEST_KIT + "."))

    def check_module(module: str, line: int) -> None:
        top = module.split(".")[0]
        if top in others:
            found.append(f"{where}:{line}: imports {module}, a package of plugin {others[top]}; "
                         "plugins never import each other")
        elif top == CORE and module != CORE and not kit_allowed(module):
            what = "the test kit, allowed only under tests/" if module.startswith(TEST_KIT) else "internal"
            found.append(f"{where}:{line}: imports {module} ({what}); "
                         "use the names lynkr_core exports (lynkr_core.__all__)")

    for node in ast.walk(ast.parse(source, filename=where)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check_module(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module != CORE:
                check_module(node.module, node.lineno)
                continue
            for alias in node.names:
                if alias.name in exported or (alias.name == "testing" and in_tests):
                    continue
                found.append(f"{where}:{node.lineno}: imports {alias.name!r} from lynkr_core, "
                             "which lynkr_core.__all__ does not export")
    return found


def find_violations() -> tuple[list[str], int]:
    """Every forbidden import in every plugin, and how many files were read."""
    dirs = plugin_dirs()
    owner = {package: d.name for d in dirs for package in packages_of(d)}
    violations: list[str] = []
    files = 0
    for plugin_dir in dirs:
        own = packages_of(plugin_dir)
        others = {package: name for package, name in owner.items() if package not in own}
        for path in python_files(plugin_dir):
            files += 1
            relative = path.relative_to(plugin_dir)
            violations += import_violations(
                path.read_text(encoding="utf-8"),
                str(path.relative_to(REPO)),
                in_tests="tests" in relative.parts[:-1],
                others=others,
            )
    return violations, files


def test_every_plugin_is_seen_with_its_packages():
    dirs = plugin_dirs()
    names = {d.name for d in dirs}
    assert {"lynkr-policy", "lynkr-tools-git", "lynkr-example-echo"} <= names, sorted(names)
    for plugin_dir in dirs:
        packages = packages_of(plugin_dir)
        assert packages, f"{plugin_dir.relative_to(REPO)}: no package found"
        assert all(p.startswith("lynkr_") for p in packages), (plugin_dir.name, packages)
        assert python_files(plugin_dir), f"{plugin_dir.relative_to(REPO)}: no Python files found"


def test_plugins_import_only_lynkr_core_exports_and_never_each_other():
    violations, files = find_violations()
    assert files > 50, f"only {files} plugin files found; is the walk broken?"
    assert not violations, (
        "plugins may import only the names lynkr_core exports (their tests also "
        "lynkr_core.testing), and never another plugin:\n" + "\n".join(violations)
    )


OTHERS = {"lynkr_tools_git": "lynkr-tools-git"}


@pytest.mark.parametrize(
    ("source", "in_tests", "bad"),
    [
        ("from lynkr_core import Provider, hookimpl", False, False),
        ("import lynkr_core", False, False),
        ("from lynkr_core import NotExported", False, True),
        ("from lynkr_core.wire import anthropic", False, True),
        ("import lynkr_core.pipeline", False, True),
        ("from lynkr_core.hookspecs import hookimpl", True, True),
        ("from lynkr_core.testing.server import make_test_app", True, False),
        ("from lynkr_core.testing.server import make_test_app", False, True),
        ("from lynkr_core import testing", True, False),
        ("from lynkr_core import testing", False, True),
        ("import lynkr_tools_git", False, True),
        ("from lynkr_tools_git.base import GitTool", True, True),
        ("from lynkr_mine.config import ENV", False, False),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from lynkr_core.context import X", False, True),
        ("def f():\n    from lynkr_tools_git import base", False, True),
    ],
)
def test_the_import_check_tells_allowed_from_forbidden(source, in_tests, bad):
    found = import_violations(source, "x.py", in_tests=in_tests, others=OTHERS)
    assert bool(found) == bad, found


# --------------------------------------------------------------------------- #
# The exported names change only on purpose


def test_the_public_api_matches_its_snapshot():
    missing = [name for name in lynkr_core.__all__ if not hasattr(lynkr_core, name)]
    assert not missing, f"lynkr_core.__all__ names what lynkr_core does not define: {missing}"
    snapshot = PUBLIC_API.read_text(encoding="utf-8").split()
    current = sorted(lynkr_core.__all__)
    assert current == snapshot, (
        "lynkr_core.__all__ differs from tests/fixtures/public_api.txt "
        f"(added: {sorted(set(current) - set(snapshot))}, removed: {sorted(set(snapshot) - set(current))}). "
        "The public API is what plugins may import: change it on purpose, update the snapshot "
        "(one name per line, sorted) and add a line to CHANGELOG.md saying what changed."
    )


# --------------------------------------------------------------------------- #
# Hooks run in pluggy's order: tryfirst, plain, trylast; shutdown reversed


def startup_plugins(called: list[str], failing: str | None = None):
    """Three plugins implementing ``lynkr_startup``, registered in an order unlike the call order."""

    def startup(name: str):
        def lynkr_startup(app, settings, services):
            called.append(name)
            if name == failing:
                raise RuntimeError(f"{name} broke")

        return lynkr_startup

    return [
        ("late", inline_plugin(trylast=True, hooks={"lynkr_startup": startup("late")})),
        ("early", inline_plugin(tryfirst=True, hooks={"lynkr_startup": startup("early")})),
        ("plain", inline_plugin(hooks={"lynkr_startup": startup("plain")})),
    ]


ARGUMENTS = {"app": None, "settings": Settings({}), "services": None}
CALL_ORDER = ["early", "plain", "late"]


async def test_hooks_run_tryfirst_then_plain_then_trylast_and_reversed_for_shutdown():
    called: list[str] = []
    pm = make_plugin_manager(Settings({}), load_entry_points=False, plugins=startup_plugins(called))
    assert [call.plugin for call in pm.hook_calls("lynkr_startup")] == CALL_ORDER
    assert [call.plugin for call in pm.hook_calls("lynkr_startup", reverse=True)] == CALL_ORDER[::-1]

    await pm.run_hook("lynkr_startup", strict=True, **ARGUMENTS)
    assert called == CALL_ORDER
    called.clear()
    await pm.run_hook("lynkr_startup", reverse=True, strict=True, **ARGUMENTS)
    assert called == CALL_ORDER[::-1]


async def test_a_failing_hook_names_its_plugin_when_strict_and_is_logged_otherwise():
    called: list[str] = []
    pm = make_plugin_manager(
        Settings({}), load_entry_points=False, plugins=startup_plugins(called, failing="plain")
    )
    with pytest.raises(HookFailed) as failure:
        await pm.run_hook("lynkr_startup", strict=True, **ARGUMENTS)
    assert (failure.value.plugin, failure.value.hook) == ("plain", "lynkr_startup")
    assert str(failure.value).startswith("plain: lynkr_startup failed: RuntimeError: plain broke")
    assert called == ["early", "plain"]

    called.clear()
    with structlog.testing.capture_logs() as logs:
        await pm.run_hook("lynkr_startup", strict=False, **ARGUMENTS)
    assert called == CALL_ORDER
    failed = [entry for entry in logs if entry["event"] == "hook_failed"]
    assert [(entry["plugin"], entry["hook"]) for entry in failed] == [("plain", "lynkr_startup")]


# --------------------------------------------------------------------------- #
# The contract modules do not depend on each other


def imported_modules(path: Path, package: str = CORE) -> set[str]:
    """Every module ``path`` imports, anywhere in it (``TYPE_CHECKING`` blocks and functions
    included), fully qualified; ``from a import b`` counts as ``a`` and as ``a.b``."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            modules.add(module)
            modules |= {f"{module}.{alias.name}" for alias in node.names}
    return modules


@pytest.mark.parametrize(("module", "forbidden"), [("contracts", "tools"), ("tools", "contracts")])
def test_contracts_and_tools_do_not_import_each_other(module, forbidden):
    imports = imported_modules(REPO / CORE / f"{module}.py")
    target = f"{CORE}.{forbidden}"
    offending = sorted(m for m in imports if m == target or m.startswith(target + "."))
    assert not offending, (
        f"lynkr_core/{module}.py imports {offending}; lynkr_core.contracts and lynkr_core.tools "
        "must stay independent of each other (TYPE_CHECKING imports count too)"
    )
