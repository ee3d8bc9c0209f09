"""Words as memory compares them: keywords, a crude stem, and FTS5 queries built from a
user's text that can never be FTS5 syntax.

Pure functions. Every term of a query is a double-quoted FTS5 string (a quote inside is
doubled), joined with ``OR``: a user's quotes, ``NEAR``, ``*``, ``^``, column filters
(``content:``) and parentheses are searched as words or dropped, never obeyed.
"""

from __future__ import annotations

import re

#: What of a user's text is read at all (a 1 MB prompt costs no more than this).
MAX_QUERY_CHARS = 4000
#: At most this many distinct terms in one FTS5 query (the rarest matter most; the
#: first ones are kept: the user's latest words come last and are put first).
MAX_QUERY_TERMS = 16

_WORD = re.compile(r"[^\W_]+(?:[._'-][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing done down during each else even ever every
few for from further get got had has have having he her here hers him his how i if in into is it
its itself just let lets like me more most much must my myself no nor not now of off on once only
or other our ours out over own please same she should so some such than that the their them then
there these they this those through to too under until up us use used using very want was we were
what when where which while who whom why will with would you your yours yourself
""".split())


def words(text: str) -> list[str]:
    """The words of ``text``, lower-cased, in order (read up to ``MAX_QUERY_CHARS``)."""
    return [word.lower() for word in _WORD.findall(text[:MAX_QUERY_CHARS])]


def stem(word: str) -> str:
    """A crude suffix stem, enough to tell "processing" and "process" apart from "python"."""
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word.rstrip("e") if len(word) > 4 else word


def keywords(text: str) -> list[str]:
    """The distinct stems of ``text``'s words that are not stop words, in order."""
    seen: dict[str, None] = {}
    for word in words(text):
        if word in STOPWORDS or len(word) < 2:
            continue
        seen.setdefault(stem(word.replace("'", "")), None)
    return list(seen)


def fts_terms(text: str) -> list[str]:
    """The words of ``text`` as FTS5 terms: each a quoted string (a quote inside doubled), at
    most ``MAX_QUERY_TERMS``, the latest words first, stop words left out."""
    terms: dict[str, None] = {}
    for word in reversed(words(text)):
        if word in STOPWORDS or len(word) < 2:
            continue
        terms.setdefault(word, None)
        if len(terms) >= MAX_QUERY_TERMS:
            break
    return ['"' + term.replace('"', '""') + '"' for term in terms]


def fts_query(text: str) -> str:
    """An FTS5 ``MATCH`` expression for the words of ``text``: its ``fts_terms`` joined with
    ``OR``; ``""`` when there is no word to search for."""
    return " OR ".join(fts_terms(text))


def overlap(left: list[str] | set[str], right: list[str] | set[str]) -> float:
    """The share of ``left``'s keywords that ``right`` has too (0 when ``left`` is empty)."""
    if not left:
        return 0.0
    right_set = set(right)
    return sum(1 for word in set(left) if word in right_set) / len(set(left))
