"""A session's exchanges share the messages they have in common: each row keeps only the
messages after those of its session's previous exchange, and reading puts every request
back together byte for byte (raw blocks as the client wrote them, spaces and escapes
included), through chains cut at ``MAX_CHAIN``, rewritten histories, a session deleted
by another process, a transaction that failed, masked content and an older database;
and any history hypothesis makes up (turns added, edited, cut back, compacted) in two
sessions written in batches of any size."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lynkr_sessions import records
from lynkr_sessions.db import MAX_CHAIN, SessionDB

from lynkr_core import Exchange, RequestContext, Settings, anthropic

SECRET = "sk-live-0123456789abcdef"


def turn(index: int) -> dict:
    """The ``index``-th message of a conversation: raw blocks written with spaces, escapes
    and a long text, as a client may."""
    if index % 2:
        return {"role": "assistant", "content": [
            {"type": "text", "text": f"answer {index}: caf\u00e9 \"quoted\"  " + "x" * 400},
            {"type": "tool_use", "id": f"toolu_{index}", "name": "Read", "input": {"file_path": f"/a/{index}"}}]}
    return {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": f"toolu_{index - 1}", "content": "line\n" * 80},
        {"type": "text", "text": f"turn {index}"}]}


def exchange(session_id: str, messages: list[dict], number: int) -> Exchange:
    """An exchange whose request holds ``messages`` (its raw blocks kept as written here)."""
    body = {"model": "claude-sonnet-4-6", "max_tokens": 64, "system": "You are terse.", "messages": messages,
            "tools": [{"name": "Read", "input_schema": {"type": "object"}}], "unknown_field": {"kept": True}}
    text = json.dumps(body, ensure_ascii=True, indent=1)  # escapes and spaces that must survive
    request = anthropic.decode_request(text.encode())
    context = RequestContext(request_id=f"req_{session_id}_{number}", http=None,  # type: ignore[arg-type]
                             settings=Settings({}), log=structlog.get_logger("test"), session_id=session_id)
    context.begin_step(request)
    return Exchange(request=request, context=context, streamed=False, duration=0.1)


def row(item: Exchange, content: records.Content = "full", secrets: list[str] | None = None) -> dict:
    return records.to_row(item, 1_800_000_000.0, content, secrets or [])


def whole(item: Exchange) -> str:
    return anthropic.encode(item.request).decode()


@pytest.fixture
def database(tmp_path: Path):
    db = SessionDB(tmp_path / "sessions.db")
    yield db
    db.close()


def stored(db: SessionDB, sql: str) -> list[tuple]:
    return db.db.execute(sql).fetchall()


def test_a_growing_conversation_is_kept_once_and_read_back_byte_for_byte(database):
    turns = MAX_CHAIN + 8
    written = [exchange("s", [turn(i) for i in range(2 * n + 1)], n) for n in range(turns)]
    for start in range(0, turns, 5):  # several transactions, several exchanges in each
        database.write_many([row(item) for item in written[start:start + 5]])

    back = database.exchange_rows("s")
    assert [r["request"] for r in back] == [whole(item) for item in written]
    assert {"base_seq", "messages_at"}.isdisjoint(back[0])  # the chain stays inside the database
    deep = written[MAX_CHAIN - 1]
    assert database.exchange_row(deep.context.request_id)["request"] == whole(deep)
    assert [r["request"] for r in database.exchange_rows("s", limit=3)] == [whole(i) for i in written[-3:]]

    kept = sum(length for (length,) in stored(database, "SELECT length(request) FROM exchanges"))
    assert kept < sum(len(whole(item)) for item in written) / 10  # a quadratic sum made linear
    # whole again: the first, and the first after MAX_CHAIN exchanges sharing in a chain
    assert stored(database, "SELECT seq FROM exchanges WHERE base_seq IS NULL") == [(1,), (MAX_CHAIN + 1,)]


def test_a_rewritten_history_shares_only_what_is_the_same(database):
    history = [turn(i) for i in range(9)]
    edited = [*history[:4], {"role": "user", "content": "an edited turn"}, *history[5:]]
    compacted = [{"role": "user", "content": "Summary of the conversation so far."}, turn(9)]
    written = [exchange("s", history, 0), exchange("s", edited, 1), exchange("s", compacted, 2),
               exchange("s", [*compacted, turn(10)], 3)]
    for item in written:
        database.write_many([row(item)])

    assert [r["request"] for r in database.exchange_rows("s")] == [whole(item) for item in written]
    assert stored(database, "SELECT base_seq, base_messages FROM exchanges ORDER BY seq") == [
        (None, None), (1, 4), (None, None), (3, 2)]


def test_sessions_in_one_batch_share_each_with_its_own(database):
    written = [exchange(session, [turn(i) for i in range(n + 1)], n) for n in range(6) for session in "ab"]
    database.write_many([row(item) for item in written])
    for session in "ab":
        mine = [item for item in written if item.session_id == session]
        assert [r["request"] for r in database.exchange_rows(session)] == [whole(item) for item in mine]
    assert stored(database, "SELECT count(*) FROM exchanges WHERE base_seq IS NULL") == [(2,)]


def test_a_session_deleted_by_another_process_is_not_shared_from(database, tmp_path):
    first = [exchange("s", [turn(i) for i in range(n + 1)], n) for n in range(3)]
    database.write_many([row(item) for item in first])
    other = SessionDB(tmp_path / "sessions.db")  # lynkr sessions delete, in a process of its own
    assert other.delete("s")
    other.close()
    later = [exchange("s", [turn(i) for i in range(n + 1)], n) for n in range(3, 6)]
    database.write_many([row(item) for item in later])
    assert [r["request"] for r in database.exchange_rows("s")] == [whole(item) for item in later]


def test_after_a_failed_transaction_the_next_exchange_does_not_share_from_it(database):
    database.write_many([row(exchange("s", [turn(0)], 0))])
    failing = [row(exchange("s", [turn(0), turn(1)], 1)), {**row(exchange("s", [turn(0)], 2)), "request_id": None}]
    with pytest.raises(sqlite3.IntegrityError):  # a request id may not be NULL: the batch is rolled back
        database.write_many(failing)
    later = exchange("s", [turn(0), turn(1), turn(2)], 3)
    database.write_many([row(later)])
    assert [r["request"] for r in database.exchange_rows("s")][-1] == whole(later)
    # the writer remembered the rolled-back exchange as the session's last: it finds it gone
    # and keeps the next one whole
    assert stored(database, "SELECT base_seq FROM exchanges ORDER BY seq") == [(None,), (None,)]


def test_masked_content_is_shared_and_read_back_masked(database):
    messages = [{"role": "user", "content": f"my key is {SECRET}"}, turn(1), turn(2)]
    written = [exchange("s", messages[:n + 1], n) for n in range(3)]
    database.write_many([row(item, "redacted", [SECRET]) for item in written])
    back = [r["request"] for r in database.exchange_rows("s")]
    assert back == [records.mask(whole(item), [SECRET]) for item in written]
    assert all(SECRET not in text for text in back) and "[redacted]" in back[-1]


def test_rows_of_an_older_database_are_read_as_they_were(tmp_path):
    path = tmp_path / "sessions.db"
    SessionDB(path).close()
    with sqlite3.connect(path) as old:  # the database as lynkr kept it before messages were shared
        for name in ("base_seq", "base_messages", "messages_at", "message_lengths"):
            old.execute(f"ALTER TABLE exchanges DROP COLUMN {name}")
        old.execute("INSERT INTO sessions (id, started, updated, exchanges, models) VALUES ('s', 1, 1, 1, '[]')")
        kept = whole(exchange("s", [turn(0)], 0))
        old.execute("INSERT INTO exchanges (request_id, session_id, finished, usage, request) "
                    "VALUES ('req_old', 's', 1, '{}', ?)", [kept])
    database = SessionDB(path)
    try:
        newer = exchange("s", [turn(0), turn(1)], 1)
        database.write_many([row(newer)])
        assert [r["request"] for r in database.exchange_rows("s")] == [kept, whole(newer)]
    finally:
        database.close()


def test_a_row_whose_base_is_gone_loses_its_request_not_the_session(database):
    written = [exchange("s", [turn(i) for i in range(n + 1)], n) for n in range(3)]
    database.write_many([row(item) for item in written])
    database.db.execute("PRAGMA foreign_keys = OFF")
    database.db.execute("DELETE FROM exchanges WHERE seq = 2")  # damaged by hand
    with structlog.testing.capture_logs() as logs:
        back = database.exchange_rows("s")
    assert [r["request"] for r in back] == [whole(written[0]), None]
    assert [entry["event"] for entry in logs] == ["sessions_base_missing"]


#: What one step of a conversation does to its history: go on (add messages), edit a
#: message in place, cut it back (a rewind), or start over (compaction).
_steps = st.one_of(
    st.tuples(st.just("add"), st.integers(1, 3)),
    st.tuples(st.just("edit"), st.integers(0, 30)),
    st.tuples(st.just("cut"), st.integers(0, 30)),
    st.tuples(st.just("restart"), st.integers(1, 2)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.sampled_from("ab"), _steps), min_size=1, max_size=45),
       batch=st.integers(1, 7))
def test_any_history_reads_back_byte_for_byte(tmp_path_factory, plan, batch):
    database = SessionDB(tmp_path_factory.mktemp("shared") / "sessions.db")
    histories: dict[str, list[dict]] = {"a": [], "b": []}
    written: list[Exchange] = []
    try:
        for number, (session, (action, amount)) in enumerate(plan):
            history = histories[session]
            if action == "add":
                history += [turn(len(history) + i) for i in range(amount)]
            elif action == "edit" and history:
                history[amount % len(history)] = {"role": "user", "content": f"edited {number}"}
            elif action == "cut":
                del history[amount % (len(history) + 1):]
            else:
                history[:] = [{"role": "user", "content": f"summary {number}"}, *(turn(i) for i in range(amount))]
            written.append(exchange(session, list(history), number))
        for start in range(0, len(written), batch):
            database.write_many([row(item) for item in written[start:start + batch]])
        for session in "ab":
            mine = [whole(item) for item in written if item.session_id == session]
            assert [r["request"] for r in database.exchange_rows(session)] == mine
        for item in written[-3:]:
            assert database.exchange_row(item.context.request_id)["request"] == whole(item)
    finally:
        database.close()


def test_a_later_steps_request_is_kept_only_when_it_differs_from_the_exchanges():
    item = exchange("s", [turn(0)], 0)
    same = anthropic.decode_request(anthropic.encode(item.request))  # another object, the same JSON
    later = anthropic.decode_request(anthropic.encode(exchange("s", [turn(0), turn(1)], 1).request))
    item.context.begin_step(same)
    item.context.begin_step(later)
    steps = json.loads(row(item)["steps"])
    assert [step["request"] is None for step in steps] == [True, True, False]
    assert steps[2]["request"] == json.loads(anthropic.encode(later))
