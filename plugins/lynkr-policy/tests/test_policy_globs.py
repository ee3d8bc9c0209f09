"""The path pattern language (``lynkr_policy.globs``), as a table."""

from __future__ import annotations

import pytest
from lynkr_policy.config import DEFAULT_BLOCKED_PATHS
from lynkr_policy.globs import PathPattern, compile_all, first_match, path_parts

DEFAULTS = compile_all(list(DEFAULT_BLOCKED_PATHS), ignore_case=True)


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        (".env", (".env",)),
        ("./.env", (".env",)),
        ("sub//.env", ("sub", ".env")),
        ("sub/./.env/", ("sub", ".env")),
        (".//./a", ("a",)),
        ("/etc/passwd", ("etc", "passwd")),
        ("../x", ("..", "x")),
        ("", ()),
        (".", ()),
        (42, ("42",)),
    ],
)
def test_paths_are_normalised_to_components(path, parts):
    assert path_parts(path) == parts


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        # no slash: a component at any depth, and everything under it
        (".env", ".env", True),
        (".env", "./.env", True),
        (".env", "sub//.env", True),
        (".env", "a/b/.env", True),
        (".env", ".env/inside", True),
        (".env", ".envrc", False),
        (".env", "x.env", False),
        ("*.pem", "certs/server.pem", True),
        ("*.pem", "server.pem.txt", False),
        ("id_rsa", "home/.ssh/id_rsa", True),
        ("?.txt", "a.txt", True),
        ("?.txt", "ab.txt", False),
        ("[ab].txt", "b.txt", True),
        ("[!ab].txt", "b.txt", False),
        ("secrets/", "secrets/prod/db.txt", True),
        ("secrets/", "sub/secrets", True),
        # a slash at the start or in the middle anchors at the workspace root
        ("/.env", ".env", True),
        ("/.env", "./.env", True),
        ("/.env", "sub/.env", False),
        ("config/*.json", "config/app.json", True),
        ("config/*.json", "sub/config/app.json", False),
        ("config/*.json", "config/deep/app.json", False),
        ("docs/api", "docs/api/v1/index.md", True),
        # * never crosses a slash
        ("src/*", "src/a.py", True),
        ("src/*", "src/pkg/a.py", True),  # under src/pkg, which src/* matches
        ("src/*.py", "src/pkg/a.py", False),
        # ** is zero or more components
        ("**/.env", ".env", True),
        ("**/.env", "a/b/c/.env", True),
        ("src/**", "src/a/b/c.py", True),
        ("src/**", "lib/src/a.py", False),
        ("src/**/test_*.py", "src/test_a.py", True),
        ("src/**/test_*.py", "src/a/b/test_a.py", True),
        ("src/**/test_*.py", "src/a/b/a_test.py", False),
        ("a**b", "axxb", True),
        ("a**b", "ax/xb", False),
        ("**", "anything/at/all", True),
        # case is respected unless ignore_case (see the next test)
        (".env", ".ENV", False),
        # an absolute or .. path still gets an answer (confinement refuses it anyway)
        (".env", "/.env", True),
        (".env", "../.env", True),
        ("/etc/passwd", "/etc/passwd", True),
    ],
)
def test_pattern_table(pattern, path, expected):
    assert PathPattern.compile(pattern).matches(path_parts(path)) is expected


@pytest.mark.parametrize(
    ("path", "blocked_by"),
    [
        (".env", ".env"),
        ("./.env", ".env"),
        # a pattern without a slash matches at any depth, so ".env" catches these before
        # the (equivalent) "**/" defaults do
        ("sub//.env", ".env"),
        ("sub/./.env", ".env"),
        (".ENV", ".env"),
        ("Sub/.Env.Local", ".env.*"),
        (".env.production", ".env.*"),
        ("deploy/.env.production", ".env.*"),
        ("certs/server.PEM", "**/*.pem"),
        ("tls.key", "**/*.key"),
        ("home/.ssh/id_rsa", "**/id_rsa"),
        ("id_ed25519", "**/id_ed25519"),
        (".env/lib/python3.11/site.py", ".env"),
        ("README.md", None),
        (".envrc", None),
        ("env.py", None),
        ("id_rsa.pub", None),
        ("keys/public.txt", None),
    ],
)
def test_default_blocked_paths(path, blocked_by):
    match = first_match(DEFAULTS, path_parts(path))
    assert (match.text if match else None) == blocked_by


@pytest.mark.parametrize("pattern", ["", "  ", ".", "./", "//", "/./"])
def test_a_pattern_that_names_no_path_is_refused(pattern):
    with pytest.raises(ValueError, match="names no path"):
        PathPattern.compile(pattern)


def test_the_root_itself_matches_only_a_pattern_of_everything():
    assert not PathPattern.compile(".env").matches(())
    assert PathPattern.compile("**").matches(())
