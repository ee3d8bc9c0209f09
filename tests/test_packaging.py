"""The distributions' metadata, read from the pyproject files: one version everywhere
(``lynkr_core.__version__``), the meta-distribution ``lynkr-gateway`` pinning its bundled
plugins to exactly that version, an extra for every provider name, every plugin requiring
a compatible core, and no distribution named plain ``lynkr`` (that name on the public index
belongs to an unrelated project)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

import lynkr_core

REPO = Path(__file__).resolve().parents[1]
CORE_DIST = "lynkr-gateway"
VERSION = lynkr_core.__version__
CLASSIFIERS = [
    "Development Status :: 3 - Alpha",
    "Framework :: AsyncIO",
    "Intended Audience :: Developers",
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.12",
    "Topic :: Internet :: WWW/HTTP :: HTTP Servers",
    "Typing :: Typed",
]

try:
    from packaging.requirements import Requirement as _Requirement
    from packaging.specifiers import SpecifierSet as _SpecifierSet
    from packaging.utils import canonicalize_name as _canonicalize_name
except ImportError:  # pragma: no cover - packaging is normally installed alongside pytest
    _Requirement = None


def canonical(name: str) -> str:
    if _Requirement is not None:
        return _canonicalize_name(name)
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> tuple[str, list[str], list[tuple[str, str]], str]:
    """(canonical name, extras, [(operator, version)], marker) of a PEP 508 requirement."""
    if _Requirement is not None:
        req = _Requirement(text)
        specs = [(spec.operator, spec.version) for spec in req.specifier]
        return canonical(req.name), sorted(req.extras), specs, str(req.marker or "")
    head, _, marker = text.partition(";")
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*?)\s*", head)
    assert match, f"cannot parse requirement {text!r}"
    name, extras, rest = match.groups()
    specs = []
    for part in filter(None, (p.strip() for p in rest.split(","))):
        op = re.match(r"(===|~=|==|!=|<=|>=|<|>)", part)
        assert op, f"cannot parse specifier {part!r} in {text!r}"
        specs.append((op.group(1), part[op.end():].strip()))
    return canonical(name), sorted(e.strip() for e in (extras or "").split(",") if e.strip()), specs, marker.strip()


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def spec_contains(specs: list[tuple[str, str]], version: str) -> bool:
    """Whether ``version`` satisfies every ``(operator, version)`` pair."""
    if _Requirement is not None:
        return _SpecifierSet(",".join(op + v for op, v in specs)).contains(version, prereleases=True)
    have = _version_key(version)
    checks = {
        "==": lambda want: have == want, "!=": lambda want: have != want,
        ">=": lambda want: have >= want, "<=": lambda want: have <= want,
        ">": lambda want: have > want, "<": lambda want: have < want,
    }
    return all(checks[op](_version_key(v)) for op, v in specs)


def load(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


ROOT = load(REPO / "pyproject.toml")
BUNDLED = {
    path.parent.name: load(path) for path in sorted((REPO / "plugins").glob("*/pyproject.toml"))
}
EXAMPLES = {
    path.parent.name: load(path) for path in sorted((REPO / "examples").glob("*/pyproject.toml"))
}
EXTRAS: dict[str, list[str]] = ROOT["project"]["optional-dependencies"]


def test_there_are_bundled_plugins_and_their_folders_are_their_names():
    assert len(BUNDLED) >= 10, sorted(BUNDLED)
    for folder, project in BUNDLED.items():
        assert project["project"]["name"] == folder


def test_the_meta_distribution_is_lynkr_gateway_and_nothing_is_named_lynkr():
    assert ROOT["project"]["name"] == CORE_DIST
    assert ROOT["project"]["scripts"] == {"lynkr": "lynkr_core.cli:main"}
    assert "lynkr" not in {canonical(name) for name in ROOT["tool"]["uv"]["sources"]}
    for group, requirements in ROOT.get("dependency-groups", {}).items():
        names = {parse_requirement(req)[0] for req in requirements if isinstance(req, str)}
        assert "lynkr" not in names, f"dependency group {group} requires the unrelated 'lynkr'"
    for folder, project in {**BUNDLED, **EXAMPLES}.items():
        names = {parse_requirement(req)[0] for req in project["project"].get("dependencies", [])}
        assert "lynkr" not in names, f"{folder} requires 'lynkr', an unrelated project on PyPI"


def test_the_version_is_written_once_in_lynkr_core():
    project = ROOT["project"]
    assert "version" not in project and "version" in project.get("dynamic", [])
    assert ROOT["tool"]["hatch"]["version"]["path"] == "lynkr_core/__init__.py"
    source = (REPO / "lynkr_core" / "__init__.py").read_text(encoding="utf-8")
    assert re.findall(r'^__version__ = "([^"]+)"$', source, flags=re.M) == [VERSION]


@pytest.mark.parametrize("folder", sorted(BUNDLED))
def test_every_bundled_plugin_has_the_core_version(folder):
    version = BUNDLED[folder]["project"]["version"]
    assert version == VERSION, (
        f"plugins/{folder}/pyproject.toml has version {version}, lynkr_core.__version__ is "
        f"{VERSION}: bundled plugins are released with the core, at the same version"
    )


def test_every_extra_pins_bundled_plugins_to_exactly_the_core_version():
    for extra, requirements in EXTRAS.items():
        assert requirements, f"extra {extra} is empty"
        for text in requirements:
            name, extras, specs, marker = parse_requirement(text)
            assert name in BUNDLED, f"extra {extra}: {name} is not a bundled plugin"
            assert (extras, marker) == ([], ""), f"extra {extra}: {text!r}"
            assert specs == [("==", VERSION)], (
                f"extra {extra}: {text!r} must pin exactly {name}=={VERSION} (the core's version), "
                "so that no other index's distribution of that name can replace it"
            )


def test_the_all_extra_is_every_bundled_plugin_and_each_has_its_own_extra():
    assert sorted(parse_requirement(text)[0] for text in EXTRAS["all"]) == sorted(BUNDLED)
    alone = {parse_requirement(text)[0] for extra, texts in EXTRAS.items() if extra != "all" for text in texts}
    assert alone == set(BUNDLED), f"bundled plugins without an extra of their own: {set(BUNDLED) - alone}"


def registered_providers() -> dict[str, str]:
    """Provider name -> the bundled plugin that registers it, from the installed plugins."""
    from lynkr_core import Settings
    from lynkr_core.app import build_pipeline
    from lynkr_core.plugins import make_plugin_manager

    settings = Settings({"LYNKR_PLUGINS": ",".join(sorted(BUNDLED))})
    pm = make_plugin_manager(settings)
    pipeline = build_pipeline(settings, pm)
    rows = {name: pm.statuses.get(name) for name in BUNDLED}
    failed = {name: row.reason if row else "not installed" for name, row in rows.items() if not (row and row.enabled)}
    assert not failed, f"bundled plugins not enabled: {failed}"
    return {name: pipeline.providers.owner(name) for name in pipeline.providers.names()}


def test_every_provider_name_of_a_bundled_plugin_has_a_provider_extra():
    providers = registered_providers()
    assert {"anthropic", "azure-anthropic", "openai", "databricks"} <= set(providers)
    for provider, plugin in sorted(providers.items()):
        extra = f"provider-{provider}"
        assert extra in EXTRAS, f"provider {provider!r} (from {plugin}) has no extra {extra!r}"
        assert [parse_requirement(text)[0] for text in EXTRAS[extra]] == [plugin], (
            f"extra {extra} must install {plugin}, the plugin registering provider {provider!r}"
        )
    stale = {extra for extra in EXTRAS if extra.startswith("provider-")} - {f"provider-{p}" for p in providers}
    assert not stale, f"extras naming no registered provider: {sorted(stale)}"


@pytest.mark.parametrize("folder", sorted(BUNDLED) + sorted(EXAMPLES))
def test_every_plugin_requires_a_compatible_lynkr_gateway(folder):
    project = (BUNDLED.get(folder) or EXAMPLES[folder])["project"]
    cores = [parse_requirement(text) for text in project["dependencies"]]
    cores = [req for req in cores if req[0] == CORE_DIST]
    assert len(cores) == 1, f"{folder} must require {CORE_DIST} once: {project['dependencies']}"
    _, extras, specs, marker = cores[0]
    assert extras == [] and marker == ""
    assert spec_contains(specs, VERSION), f"{folder}: {CORE_DIST}{specs} excludes the core's {VERSION}"
    assert any(op in ("<", "<=", "==", "~=") for op, _ in specs), (
        f"{folder}: {CORE_DIST} needs an upper bound (>= this minor, < the next), not {specs}"
    )


@pytest.mark.parametrize("pyproject", ["."] + [f"plugins/{name}" for name in sorted(BUNDLED)]
                         + [f"examples/{name}" for name in sorted(EXAMPLES)])
def test_every_distribution_is_classified_and_typed(pyproject):
    project = load(REPO / pyproject / "pyproject.toml")
    assert project["project"]["classifiers"] == CLASSIFIERS
    # PEP 639: the license is the SPDX expression; License :: classifiers are deprecated with it.
    assert project["project"]["license"] == "Apache-2.0"
    assert not [c for c in project["project"]["classifiers"] if c.startswith("License ::")]
    for package in project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:
        assert (REPO / pyproject / package / "py.typed").is_file(), f"{pyproject}/{package} lacks py.typed"
