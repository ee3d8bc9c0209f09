"""Facts about the project beyond its symbols: frameworks (from manifests and imports),
test files, test frameworks and the command that runs the tests."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

#: Package or module names (lower case) that reveal a framework, and its display name.
FRAMEWORKS: dict[str, str] = {
    "django": "Django", "flask": "Flask", "fastapi": "FastAPI", "starlette": "Starlette",
    "aiohttp": "aiohttp", "sqlalchemy": "SQLAlchemy", "pydantic": "Pydantic", "msgspec": "msgspec",
    "pytest": "pytest", "unittest": "unittest", "hypothesis": "Hypothesis", "numpy": "NumPy",
    "pandas": "pandas", "torch": "PyTorch", "tensorflow": "TensorFlow", "click": "Click",
    "typer": "Typer", "celery": "Celery", "pluggy": "pluggy", "tree_sitter": "tree-sitter",
    "react": "React", "vue": "Vue", "next": "Next.js", "svelte": "Svelte", "@angular/core": "Angular",
    "express": "Express", "koa": "Koa", "fastify": "Fastify", "@nestjs/core": "NestJS",
    "jest": "Jest", "vitest": "Vitest", "mocha": "Mocha", "typescript": "TypeScript",
    "github.com/gin-gonic/gin": "Gin", "github.com/labstack/echo": "Echo",
    "github.com/gorilla/mux": "Gorilla mux", "github.com/stretchr/testify": "testify",
    "github.com/spf13/cobra": "Cobra", "google.golang.org/grpc": "gRPC",
    "tokio": "Tokio", "actix-web": "Actix Web", "axum": "Axum", "rocket": "Rocket", "serde": "Serde",
    "clap": "clap", "spring-boot": "Spring Boot", "spring-boot-starter-web": "Spring Boot",
    "junit": "JUnit", "junit-jupiter": "JUnit", "org.junit": "JUnit", "org.springframework": "Spring",
    "rails": "Rails", "sinatra": "Sinatra", "rspec": "RSpec", "minitest": "Minitest",
}
_TEST_FRAMEWORKS = {"pytest", "unittest", "Jest", "Vitest", "Mocha", "testify", "JUnit", "RSpec",
                    "Minitest", "Hypothesis"}
_TEST_PATH = re.compile(
    r"(^|/)(tests?|spec|__tests__)/|(^|/)test_[^/]*\.py$|_test\.(py|go|rb)$|\.(test|spec)\.[jt]sx?$"
    r"|Tests?\.java$|_spec\.rb$|(^|/)src/test/"
)
MANIFESTS = ("pyproject.toml", "setup.py", "requirements.txt", "package.json", "go.mod", "Cargo.toml",
             "pom.xml", "build.gradle", "build.gradle.kts", "Gemfile")


def is_test_path(path: str) -> bool:
    """Whether ``path`` looks like a test file."""
    return bool(_TEST_PATH.search(path))


def manifest_dependencies(root: Path) -> dict[str, list[str]]:
    """Each manifest found at the root or one level down, with the dependency names it lists."""
    found: dict[str, list[str]] = {}
    if not root.is_dir():
        return found
    folders = [root, *sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))]
    for folder in folders:
        try:
            present = set(os.listdir(folder)) & set(MANIFESTS)
        except OSError:
            continue
        for name in sorted(present):
            path = folder / name
            if path.is_file():
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")[:512_000]
                    found[str(path.relative_to(root))] = sorted(set(_dependencies(name, text)))
                except (OSError, ValueError):
                    continue
    return found


def _dependencies(name: str, text: str) -> list[str]:
    if name == "pyproject.toml":
        data = tomllib.loads(text)
        project = data.get("project", {})
        names = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            names += extra
        for group in data.get("dependency-groups", {}).values():
            names += [g for g in group if isinstance(g, str)]
        names += list(data.get("tool", {}).get("poetry", {}).get("dependencies", {}))
        return [_requirement_name(n) for n in names]
    if name == "requirements.txt":
        return [_requirement_name(line) for line in text.splitlines() if line.strip() and not line.startswith(("#", "-"))]
    if name == "setup.py":
        return [_requirement_name(m) for m in re.findall(r"['\"]([A-Za-z0-9_.\-]+)\s*[<>=~!]", text)]
    if name == "package.json":
        data = json.loads(text)
        return [k for key in ("dependencies", "devDependencies", "peerDependencies") for k in data.get(key, {})]
    if name == "go.mod":
        return re.findall(r"^\s*(?:require\s+)?([a-z0-9.\-]+\.[a-z]+/[^\s]+)\s+v", text, re.M)
    if name == "Cargo.toml":
        data = tomllib.loads(text)
        return [k for key in ("dependencies", "dev-dependencies") for k in data.get(key, {})]
    if name == "pom.xml":
        return re.findall(r"<artifactId>([^<]+)</artifactId>", text) + re.findall(r"<groupId>([^<]+)</groupId>", text)
    if name.startswith("build.gradle"):
        return [m for g in re.findall(r"['\"]([\w.\-]+):([\w.\-]+)(?::[^'\"]*)?['\"]", text) for m in g]
    if name == "Gemfile":
        return re.findall(r"^\s*gem\s+['\"]([^'\"]+)['\"]", text, re.M)
    return []


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=~!;@]", requirement.strip(), maxsplit=1)[0].lower().replace("-", "_") \
        if "/" not in requirement else requirement


def frameworks(manifests: dict[str, list[str]], import_roots: Counter[str]) -> list[dict[str, Any]]:
    """Frameworks named by a manifest or imported by the code, with where the hint came from."""
    seen: dict[str, dict[str, Any]] = {}
    for manifest, names in sorted(manifests.items()):
        for name in names:
            framework = _framework(name)
            if framework:
                seen.setdefault(framework, {"name": framework, "sources": []})["sources"].append(manifest)
    for module, count in sorted(import_roots.items()):
        framework = _framework(module)
        if framework:
            entry = seen.setdefault(framework, {"name": framework, "sources": []})
            entry["sources"].append(f"imports ({count})")
    return [seen[k] for k in sorted(seen)]


def _framework(name: str) -> str | None:
    key = name.lower()
    if key in FRAMEWORKS:
        return FRAMEWORKS[key]
    for prefix, framework in FRAMEWORKS.items():
        if "/" in prefix and key.startswith(prefix):
            return framework
        if key.startswith(prefix + "-") and prefix in ("spring-boot", "junit"):
            return framework
    return None


def import_root(language: str, module: str) -> str:
    """The package an import belongs to (``os.path`` gives ``os``), for framework hints."""
    if module.startswith(".") or not module:
        return ""
    if language == "python":
        return module.split(".")[0]
    if language in ("javascript", "typescript", "tsx"):
        parts = module.split("/")
        return "/".join(parts[:2]) if module.startswith("@") else parts[0]
    if language == "go":
        return "/".join(module.split("/")[:3])
    if language == "rust":
        return module.split("::")[0]
    if language == "java":
        return ".".join(module.split(".")[:2])
    if language == "ruby":
        return module.split("/")[0]
    return ""


def test_metadata(root: Path, test_files: list[str], found: list[dict[str, Any]],
                  manifests: dict[str, list[str]]) -> dict[str, Any]:
    """Test files (count and a sample), test frameworks, and the command that runs the tests."""
    names = {f["name"] for f in found}
    return {
        "files": len(test_files),
        "sample": test_files[:10],
        "frameworks": sorted(names & _TEST_FRAMEWORKS),
        "command": _test_command(root, names, manifests),
    }


def _test_command(root: Path, names: set[str], manifests: dict[str, list[str]]) -> str:
    package = root / "package.json"
    if package.is_file():
        try:
            if json.loads(package.read_text(encoding="utf-8")).get("scripts", {}).get("test"):
                return "npm test"
        except (OSError, ValueError):
            pass
    if "pytest" in names or (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return "uv run pytest" if (root / "uv.lock").is_file() else "pytest"
    if "go.mod" in manifests:
        return "go test ./..."
    if "Cargo.toml" in manifests:
        return "cargo test"
    if "pom.xml" in manifests:
        return "mvn test"
    if any(m.startswith("build.gradle") for m in manifests):
        return "./gradlew test"
    if "RSpec" in names:
        return "bundle exec rspec"
    if "Minitest" in names:
        return "bundle exec rake test"
    if "unittest" in names:
        return "python -m unittest"
    return ""
