"""Keyword heuristics: a prompt's task type, a tool call's category and signature, a tool
result's error class, a test run's verdict, and whether a user's words correct the model.

Pure functions over strings; every table is here so that what the reflector recognises
can be read in one place.
"""

from __future__ import annotations

import functools
import re
import shlex

TASK_TYPES = ("debug", "test", "refactor", "docs", "feature")
OTHER = "other"

#: Words that make a prompt one task type, with a weight each. A tie goes to the type
#: listed first in ``TASK_TYPES`` ("fix the failing test" is debugging, not test writing).
_TASK_WORDS: dict[str, tuple[tuple[str, int], ...]] = {
    "debug": (
        (r"\bfix(es|ed|ing)?\b", 2), (r"\bbugs?\b", 2), (r"\bfail(s|ed|ing|ure|ures)?\b", 2),
        (r"\bbroken\b|\bbreaks?\b", 2), (r"\bcrash(es|ed|ing)?\b", 2), (r"\berrors?\b", 1),
        (r"\bexceptions?\b|\btraceback\b|\bstack ?trace\b", 2), (r"\bdebug(ging)?\b", 3),
        (r"\bdoes(n't| not) work\b|\bnot working\b|\bwrong\b|\bregression\b", 2),
    ),
    "test": (
        (r"\btests?\b", 1), (r"\bunit[- ]tests?\b|\btest cases?\b|\btest suite\b", 2),
        (r"\bcoverage\b", 2), (r"\b(add|write)( some| more| a)? tests?\b", 3),
        (r"\bpytest\b|\bjest\b|\bvitest\b", 1), (r"\bfixtures?\b|\bmocks?\b", 1),
    ),
    "refactor": (
        (r"\brefactor(ing|ed)?\b", 3), (r"\brenam(e|es|ed|ing)\b", 2), (r"\bextract(s|ed|ing)?\b", 2),
        (r"\bclean(ing)? ?up\b|\btidy\b", 2), (r"\bsimplif(y|ies|ied)\b", 2),
        (r"\brestructur(e|ing)\b|\breorgani[sz]e\b|\bsplit\b", 2), (r"\bdeduplicate\b|\bdry\b", 2),
        (r"\bmove\b.*\b(into|to)\b", 1), (r"\binline\b", 1),
    ),
    "docs": (
        (r"\bdocs?\b|\bdocumentation\b|\bdocument\b", 3), (r"\breadme\b", 3),
        (r"\bdocstrings?\b|\bcomments?\b|\bchangelog\b", 3), (r"\bexplain(ing)? in the\b", 1),
    ),
    "feature": (
        (r"\badd(s|ing)?\b", 1), (r"\bimplement(s|ing|ation)?\b", 2), (r"\bcreate\b", 1),
        (r"\bnew\b", 1), (r"\bsupport(s|ing)?\b", 1), (r"\bfeature\b", 2), (r"\bendpoint\b", 1),
        (r"\boption\b|\bflag\b|\bcommand\b", 1), (r"\bbuild\b", 1),
    ),
}
_TASK_PATTERNS = {
    kind: tuple((re.compile(pattern), weight) for pattern, weight in words)
    for kind, words in _TASK_WORDS.items()
}


@functools.lru_cache(maxsize=512)
def task_type(prompt: str) -> str:
    """The task type a prompt asks for (``TASK_TYPES``), or ``OTHER`` when no word says.
    Remembered: every request of a task repeats the prompt that started it."""
    text = prompt.lower()[:2000]
    best, best_score = OTHER, 0
    for kind in TASK_TYPES:
        score = sum(weight for pattern, weight in _TASK_PATTERNS[kind] if pattern.search(text))
        if score > best_score:
            best, best_score = kind, score
    return best


# --------------------------------------------------------------------------- #
# What the user typed, and what Claude Code put in a user turn on its own

#: Text blocks of a user turn that the CLI wrote, not the user.
_NOT_TYPED = re.compile(
    r"^\s*(<system-reminder>|<command-(name|message|args)>|<local-command-std(out|err)>|"
    r"Caveat: The messages below|This session is being continued from a previous conversation)",
)
INTERRUPTED = re.compile(r"^\s*\[Request interrupted by user")


def typed_by_user(text: str) -> bool:
    """Whether a user text block is the user's words (not a reminder, command echo or
    continuation summary the CLI adds)."""
    return bool(text.strip()) and not _NOT_TYPED.match(text)


_CORRECTION = re.compile(
    r"^\s*(no|nope|nah|stop|undo|revert|don'?t|do not|instead|wrong)\b"
    r"|\b(that'?s|that is|this is|it'?s|it is|you'?re|you are) (wrong|not (right|correct|what))"
    r"|\bnot what i (asked|wanted|meant|said)\b"
    r"|\b(revert|undo|roll ?back)( all)? (it|that|this|these|those|the|your|what)\b"
    r"|\bput (it|that|them) back\b"
    r"|\byou (broke|deleted|removed|changed the wrong)\b"
    r"|\bwhy did you\b|\bi (said|told you|asked you)\b"
    r"|^\s*\[request interrupted by user",
    re.IGNORECASE,
)


def is_correction(text: str) -> bool:
    """Whether a user's message corrects what the model just did ("no", "that's wrong",
    "revert", "undo", an interruption...). Only its first 300 characters are read: a
    correction comes first."""
    return bool(_CORRECTION.search(text[:300]))


# --------------------------------------------------------------------------- #
# Tool calls: category, signature, target

SEARCH, READ, EDIT, TEST, RUN, GIT, WEB, DELEGATE, OTHER_TOOL = (
    "search", "read", "edit", "test", "run", "git", "web", "delegate", "other",
)

_CATEGORY_BY_TOOL = {
    "read": READ, "notebookread": READ,
    "edit": EDIT, "multiedit": EDIT, "write": EDIT, "notebookedit": EDIT,
    "grep": SEARCH, "glob": SEARCH, "ls": SEARCH, "websearch": WEB, "webfetch": WEB,
    "agent": DELEGATE, "task": DELEGATE,
}
#: Words in the name of one of lynkr's own tools (server mode) or an MCP tool, in the order
#: they are tried.
_CATEGORY_BY_WORD = (
    ("test", TEST), ("search", SEARCH), ("glob", SEARCH), ("list", SEARCH), ("grep", SEARCH),
    ("read", READ), ("edit", EDIT), ("write", EDIT), ("patch", EDIT), ("git", GIT),
    ("shell", RUN), ("bash", RUN), ("exec", RUN), ("run", RUN), ("fetch", WEB),
)

TEST_COMMAND = re.compile(
    r"\b(pytest|py\.test|tox|nox|jest|vitest|mocha|rspec|phpunit|ctest)\b"
    r"|\bpython3? -m unittest\b|\b(npm|yarn|pnpm|bun)( run)? test\b|\bgo test\b|\bcargo (test|nextest)\b"
    r"|\bmake (test|check)\b|\bmvn\b.*\btest\b|\bgradlew?\b.*\btest\b|\bdotnet test\b|\bmix test\b",
)
_SEARCH_COMMAND = re.compile(r"^(rg|grep|egrep|fgrep|ag|ack|find|fd|ls|tree|git grep)\b")
_READ_COMMAND = re.compile(r"^(cat|head|tail|less|bat|wc|sed)\b")
#: Programs whose first argument is a sub-command that belongs in the signature.
_WITH_SUBCOMMAND = {
    "git", "npm", "yarn", "pnpm", "bun", "cargo", "go", "make", "docker", "pip", "pip3",
    "poetry", "uv", "npx", "dotnet", "mix", "kubectl", "gh", "mvn", "gradle", "./gradlew",
}
_SCRIPT_RUNNERS = {"npm", "yarn", "pnpm", "bun"}
#: Wrappers that run another program: the signature keeps both.
_WRAPPERS = {("uv", "run"), ("poetry", "run"), ("pipenv", "run"), ("pdm", "run"), ("hatch", "run"),
             ("bundle", "exec"), ("npx",), ("pnpx",), ("bunx",), ("python", "-m"), ("python3", "-m")}
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SEPARATORS = re.compile(r"&&|\|\||;|\||\n")


def category(tool: str, command: str = "") -> str:
    """What kind of step a tool call is: search, read, edit, test, run, git, web, delegate."""
    name = tool.lower()
    if name == "bash" or name.endswith("__bash"):
        return command_category(command)
    if name in _CATEGORY_BY_TOOL:
        return _CATEGORY_BY_TOOL[name]
    if "_" in name:  # lynkr's tools (workspace_read) and MCP tools; not TodoWrite or TaskList
        for word, kind in _CATEGORY_BY_WORD:
            if word in name:
                return kind
    return OTHER_TOOL


def command_category(command: str) -> str:
    """The category of a shell command: a test run, a search, a read, git, or another run."""
    if TEST_COMMAND.search(command):
        return TEST
    head = command_signature(command)
    if head.startswith("git ") and not head.startswith("git grep"):
        return GIT
    if _SEARCH_COMMAND.match(head):
        return SEARCH
    if _READ_COMMAND.match(head) and not (head == "sed" and re.search(r"\s-i\b", command)):
        return READ
    return RUN


def _words(segment: str) -> list[str]:
    try:
        return shlex.split(segment)
    except ValueError:
        return segment.split()


def command_signature(command: str) -> str:
    """A command's stable name: its program (after ``cd x &&``, variable assignments and
    ``timeout``), with a wrapper (``uv run``) and a sub-command (``git status``) when it has
    them, without paths and flags: ``cd app && uv run pytest -q tests/a.py`` is
    ``uv run pytest``. In a chain that runs tests (``ruff check . && pytest``) it is the
    test command's."""
    segments = _SEPARATORS.split(command)
    if TEST_COMMAND.search(command):
        segments = [segment for segment in segments if TEST_COMMAND.search(segment)] or segments
    for segment in segments:
        words = [w for w in _words(segment.strip()) if w]
        while words and (_ENV_ASSIGNMENT.match(words[0]) or words[0] in ("sudo", "env", "time", "exec")):
            words.pop(0)
        if words and words[0] == "timeout":
            words = words[2:] if len(words) > 2 else []
        if not words or words[0] == "cd":
            continue
        return " ".join(_signature_words(words))
    return command.strip().split("\n")[0][:40]


def _signature_words(words: list[str]) -> list[str]:
    head: list[str] = []
    rest = list(words)
    for wrapper in sorted(_WRAPPERS, key=len, reverse=True):
        if tuple(rest[: len(wrapper)]) == wrapper and len(rest) > len(wrapper):
            head.extend(wrapper)
            rest = rest[len(wrapper):]
            break
    while rest and rest[0].startswith("-"):  # options of the wrapper (uv run --frozen pytest)
        rest.pop(0)
    if not rest:
        return head
    program = rest[0].rsplit("/", 1)[-1] if "/" in rest[0] and not rest[0].startswith("./") else rest[0]
    head.append(program)
    if program in _WITH_SUBCOMMAND and len(rest) > 1 and not rest[1].startswith("-"):
        head.append(rest[1])
        if rest[1] == "run" and program in _SCRIPT_RUNNERS and len(rest) > 2:
            head.append(rest[2])  # npm run test
    return head


# --------------------------------------------------------------------------- #
# Tool results: error classes, test verdicts

TEST_FAILURES = "test failures"
#: Error classes, tried in order on a failed result's text (lower-cased).
_ERRORS = (
    ("command not found",
     r"command not found|not recognized as an internal|no such command|executable file not found"),
    ("module not found",
     r"modulenotfounderror|no module named|cannot find module|importerror|module not found"),
    ("old_string not found",
     r"string to replace not found|old_string (was )?not found|not found in file"),
    ("old_string matches several places",
     r"found \d+ matches|\d+ matches of the string|multiple (matches|occurrences)|appears \d+ times"),
    ("file not read first", r"has not been read yet|read it first|must (first )?read"),
    ("no such file",
     r"no such file or directory|file or directory not found|does not exist|filenotfounderror"
     r"|enoent|file not found"),
    ("permission denied", r"permission denied|eacces|requires approval|operation not permitted"),
    ("timed out", r"timed out|timeout"),
    ("syntax error", r"syntaxerror|syntax error|parse error|unexpected token"),
)
_ERROR_PATTERNS = tuple((name, re.compile(pattern)) for name, pattern in _ERRORS)
_TESTS_FAILED = re.compile(
    r"\b\d+ (failed|errors?)\b|^FAILED\b|^FAIL\b|^--- FAIL|\btest result: FAILED|Tests?:\s+\d+ failed", re.M
)
_TESTS_PASSED = re.compile(
    r"\b\d+ passed\b|^ok\b|^PASS\b|\btest result: ok|Tests?:\s+\d+ passed|^OK\b", re.M
)
#: Failures that mean a command could not even start: its fix is another command.
_CANNOT_START = ("command not found", "module not found")
_EXIT_CODE = re.compile(r"exit code (\d+)", re.IGNORECASE)


def error_class(text: str, *, test: bool = False) -> str:
    """A short name for why a tool call failed, from its result text."""
    lowered = text[:4000].lower()
    for name, pattern in _ERROR_PATTERNS:
        if pattern.search(lowered):
            return name
    if test:
        return TEST_FAILURES
    code = _EXIT_CODE.search(text[:4000])
    return f"exit code {code.group(1)}" if code else "error"


def test_verdict(text: str, is_error: bool) -> tuple[bool, str]:
    """A test run's outcome from its result: ``(passed, error class)``. The text wins over the
    exit status (``pytest | tail`` exits 0 when tests fail); a run that could not start
    (command or module not found) is told apart from one whose tests failed."""
    failed = _TESTS_FAILED.search(text[-6000:])
    if not failed and not is_error:
        return True, ""
    kind = error_class(text, test=tests_ran(text))
    if failed and kind not in _CANNOT_START:
        return False, TEST_FAILURES
    return False, kind


def tests_ran(text: str) -> bool:
    """Whether a test command's output shows a test session (passed or failed)."""
    sample = text[-6000:]
    return bool(_TESTS_FAILED.search(sample) or _TESTS_PASSED.search(sample))
