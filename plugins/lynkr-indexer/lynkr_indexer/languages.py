"""The languages lynkr indexes: file extensions, the grammar wheel from PyPI, and the
tree-sitter query (``queries/<name>.scm``) that finds definitions, references and imports.

Grammars come from the individual ``tree-sitter-<language>`` wheels, loaded the first
time a language is needed; nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
import importlib
import os
from dataclasses import dataclass
from importlib import resources

from tree_sitter import Language, Parser, Query


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """One language: its name, extensions and where its grammar lives."""

    name: str
    extensions: tuple[str, ...]
    module: str
    function: str = "language"
    query_name: str = ""

    @property
    def query_file(self) -> str:
        return f"{self.query_name or self.name}.scm"


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec("python", (".py", ".pyi"), "tree_sitter_python"),
    LanguageSpec("javascript", (".js", ".jsx", ".mjs", ".cjs"), "tree_sitter_javascript"),
    LanguageSpec("typescript", (".ts", ".mts", ".cts"), "tree_sitter_typescript", "language_typescript"),
    LanguageSpec("tsx", (".tsx",), "tree_sitter_typescript", "language_tsx", "typescript"),
    LanguageSpec("go", (".go",), "tree_sitter_go"),
    LanguageSpec("rust", (".rs",), "tree_sitter_rust"),
    LanguageSpec("java", (".java",), "tree_sitter_java"),
    LanguageSpec("c", (".c", ".h"), "tree_sitter_c"),
    LanguageSpec("cpp", (".cc", ".cpp", ".cxx", ".c++", ".hh", ".hpp", ".hxx", ".h++", ".ipp"),
                 "tree_sitter_cpp"),
    LanguageSpec("ruby", (".rb", ".rake", ".gemspec"), "tree_sitter_ruby"),
)

_BY_EXTENSION = {ext: spec for spec in LANGUAGES for ext in spec.extensions}
_BY_NAME = {spec.name: spec for spec in LANGUAGES}


def language_for(path: str) -> str | None:
    """The language name of ``path`` by its extension, or ``None`` when lynkr does not parse it."""
    spec = _BY_EXTENSION.get(os.path.splitext(path)[1].lower())
    return spec.name if spec else None


@dataclass(frozen=True, slots=True)
class Grammar:
    """A loaded language: a parser for it and its compiled query."""

    name: str
    parser: Parser
    query: Query


@functools.cache
def grammar(name: str) -> Grammar:
    """The parser and query of language ``name`` (loaded once per process)."""
    spec = _BY_NAME[name]
    module = importlib.import_module(spec.module)
    language = Language(getattr(module, spec.function)())
    source = resources.files("lynkr_indexer").joinpath("queries", spec.query_file).read_text()
    return Grammar(name, Parser(language), Query(language, source))
