"""Golden symbol tables: the definitions (kind, qualified name, lines, signature, doc
line), references (calls, imports, inheritance, type uses) and imports found in a small
fixture of each language.

After a deliberate change, regenerate the tables with
``uv run python plugins/lynkr-indexer/tests/test_extract_golden.py`` and review the diff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lynkr_indexer.extract import extract
from lynkr_indexer.languages import LANGUAGES, language_for

FIXTURES = Path(__file__).parent / "fixtures" / "golden"


def table(path: Path) -> dict[str, object]:
    """Definitions, references and imports of one fixture file."""
    found = extract(language_for(path.name), path.read_bytes())
    return {
        "definitions": [[d.kind, d.qualified_name, d.start_line, d.end_line, d.signature, d.doc]
                        for d in found.definitions],
        "references": [[r.kind, r.name, r.line, r.scope] for r in found.references],
        "imports": [i.module for i in found.imports],
    }


def sources() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.suffix != ".json")


def dumps(found: dict[str, list]) -> str:
    """JSON with one row per line, so a diff shows which symbol changed."""
    parts = [f'  "{key}": [\n' + ",\n".join("    " + json.dumps(row) for row in rows) + "\n  ]"
             for key, rows in found.items()]
    return "{\n" + ",\n".join(parts) + "\n}\n"



GOLDEN = sources()


def test_every_language_has_a_fixture():
    assert {language_for(p.name) for p in GOLDEN} == {spec.name for spec in LANGUAGES}


@pytest.mark.parametrize("source", GOLDEN, ids=[p.name for p in GOLDEN])
def test_symbol_table_matches_the_golden_one(source: Path):
    expected = json.loads(source.with_name(source.name + ".json").read_text())
    assert table(source) == expected


def test_python_qualifies_methods_and_reads_docstrings():
    found = table(Path(__file__).parent / "fixtures" / "golden" / "sample.py")
    rows = {row[1]: row for row in found["definitions"]}
    assert rows["Service.run"][0] == "method"
    assert rows["Service"][5] == "Runs things."
    assert ["inherit", "Base", 11, "Service"] in found["references"]


if __name__ == "__main__":
    for source in sources():
        target = source.with_name(source.name + ".json")
        target.write_text(dumps(table(source)))
        print("wrote", target)
