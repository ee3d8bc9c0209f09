"""Indexing a workspace: references across files, incremental updates (edit, rename,
delete), .gitignore, and files that must not stop the index."""

from __future__ import annotations

import os

from lynkr_indexer.db import get_meta

PRICES = '''"""Prices."""


def net_price(amount):
    """The price without tax."""
    return amount / 1.2
'''

INVOICE = '''from shop.prices import net_price


class Invoice:
    def total(self, amounts):
        return sum(net_price(a) for a in amounts)
'''


def symbols(database):
    return sorted(tuple(row) for row in database.execute(
        "SELECT f.path, s.qualified_name, s.kind FROM symbols s JOIN files f ON f.id = s.file_id"))


def resolved_references(database, name):
    return sorted(tuple(row) for row in database.execute(
        """SELECT rf.path, r.line, r.kind, df.path FROM refs r JOIN files rf ON rf.id = r.file_id
        LEFT JOIN symbols s ON s.id = r.target_id LEFT JOIN files df ON df.id = s.file_id
        WHERE r.name = ?""", (name,)))


def test_references_resolve_across_files(write, index, database):
    write("shop/__init__.py", "")
    write("shop/prices.py", PRICES)
    write("shop/invoice.py", INVOICE)
    report = index()
    assert report.parsed == 3
    assert ("shop/invoice.py", "Invoice.total", "method") in symbols(database)
    assert resolved_references(database, "net_price") == [
        ("shop/invoice.py", 1, "import", "shop/prices.py"),
        ("shop/invoice.py", 6, "call", "shop/prices.py"),
    ]
    assert database.execute("""SELECT t.path FROM imports i JOIN files t ON t.id = i.target_file_id
        WHERE i.module = 'shop.prices'""").fetchone()[0] == "shop/prices.py"


def test_a_second_run_parses_nothing_and_an_edit_only_that_file(write, index, database, workspace):
    write("shop/prices.py", PRICES)
    write("shop/invoice.py", INVOICE)
    index()
    assert index().parsed == 0
    edited = write("shop/prices.py", PRICES + "\n\ndef gross_price(amount):\n    return amount * 1.2\n")
    report = index()
    assert (report.parsed, report.removed) == (1, 0)
    assert ("shop/prices.py", "gross_price", "function") in symbols(database)
    # the reference from the unchanged file points at the new definition
    assert resolved_references(database, "net_price")[1][3] == "shop/prices.py"
    # touched without a change of content: hashed, not parsed
    os.utime(edited, ns=(1, 1))
    report = index()
    assert (report.parsed, report.unchanged) == (0, 1)


def test_a_rename_and_a_delete_are_followed(write, index, database, workspace):
    write("shop/prices.py", PRICES)
    write("shop/invoice.py", INVOICE)
    index()
    (workspace / "shop/prices.py").rename(workspace / "shop/pricing.py")
    report = index()
    assert (report.parsed, report.removed) == (1, 1)
    assert [p for (p,) in database.execute("SELECT path FROM files ORDER BY path")] == [
        "shop/invoice.py", "shop/pricing.py"]
    assert resolved_references(database, "net_price")[1][3] == "shop/pricing.py"
    (workspace / "shop/pricing.py").unlink()
    index()
    assert [row[1] for row in symbols(database)] == ["Invoice", "Invoice.total"]
    assert resolved_references(database, "net_price")[1][3] is None
    assert database.execute("SELECT COUNT(*) FROM refs WHERE target_id NOT IN (SELECT id FROM symbols)").fetchone()[0] == 0


def test_gitignore_is_honoured_at_every_depth(write, index, database):
    write(".gitignore", "generated/\n*.gen.py\n")
    write("app/.gitignore", "local_*.py\n!local_keep.py\n")
    write("app/main.py", "def main(): pass\n")
    write("app/local_secret.py", "def secret(): pass\n")
    write("app/local_keep.py", "def keep(): pass\n")
    write("app/models.gen.py", "def gen(): pass\n")
    write("generated/out.py", "def out(): pass\n")
    write("node_modules/lib/index.js", "function vendored() {}\n")
    index()
    assert [p for (p,) in database.execute("SELECT path FROM files ORDER BY path")] == [
        "app/local_keep.py", "app/main.py"]


def test_binary_huge_and_invalid_files_are_recorded_and_skipped(write, index, database):
    write("good.py", "def fine():\n    return 1\n")
    write("binary.c", b"\x7fELF\x00\x00\x01int main() {}")
    write("huge.py", "x = 1\n" * (20 * 1024 * 1024 // 6))
    write("latin1.py", "def caf\xe9():\n    return 'd\xe9j\xe0'\n".encode("latin-1"))
    write("broken.py", "def broken(:\n    return\nclass Fine:\n    pass\n")
    write("min.js", "var a=1;" * 2000)
    report = index()
    rows = {path: (status, note) for path, status, note in database.execute("SELECT path, status, note FROM files")}
    assert rows["good.py"] == ("indexed", "")
    assert rows["binary.c"] == ("skipped", "binary")
    assert rows["huge.py"][0] == "skipped" and rows["huge.py"][1].startswith("too large")
    assert rows["latin1.py"][0] == "indexed" and "invalid UTF-8" in rows["latin1.py"][1]
    assert rows["broken.py"][0] == "indexed"
    assert rows["min.js"] == ("skipped", "minified")
    assert report.skipped == 3
    names = {name for (name,) in database.execute("SELECT name FROM symbols")}
    assert {"fine", "caf", "Fine"} <= names  # the identifier ends at the invalid byte


def test_the_process_pool_gives_the_same_index(write, index, database):
    for n in range(30):
        write(f"pkg/mod{n}.py", f"def f{n}():\n    return f{(n + 1) % 30}()\n")
    report = index(pool_threshold=0, workers=2)
    assert report.parsed == 30
    assert database.execute("SELECT COUNT(target_id) FROM refs").fetchone()[0] == 30


def test_project_facts(write, index, database):
    write("pyproject.toml", '[project]\nname = "x"\ndependencies = ["fastapi>=0.1"]\n')
    write("uv.lock", "")
    write("app/api.py", "import fastapi\nfrom app import util\n")
    write("app/util.py", "def helper(): pass\n")
    write("tests/test_api.py", "import pytest\n\ndef test_it():\n    pass\n")
    write("web/app.ts", "export function f(): number { return 1 }\n")
    index()
    assert get_meta(database, "languages") == [
        {"language": "python", "files": 3, "lines": 7}, {"language": "typescript", "files": 1, "lines": 1}]
    names = [f["name"] for f in get_meta(database, "frameworks")]
    assert names == ["FastAPI", "pytest"]
    tests = get_meta(database, "tests")
    assert (tests["files"], tests["command"], tests["frameworks"]) == (1, "uv run pytest", ["pytest"])
    assert get_meta(database, "dependencies") == []  # app/api.py -> app/util.py stays inside "app"
