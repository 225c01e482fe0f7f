"""Issue 15 finding 9: the audit log is hash-chained, verified by ``tipsom audit verify`` and sealed."""

from __future__ import annotations

import itertools
import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.store import audit
from tipsom.store.base import engine_for
from tipsom.store.db import Store
from tipsom.store.tables import audit_log

runner = CliRunner()


def _store_with_events(db_url: str, n: int = 6) -> Store:
    store = Store.init(db_url)
    for i in range(n):
        with store.begin() as conn:
            audit.record(conn, actor=f"user{i % 2}", action=audit.AuditAction.READ, entity="case",
                         entity_id=f"C-{i}", purpose="case management", detail={"via": "test", "i": i})
    return store


def _verify(db_url: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", "--db", db_url, *extra])
    return result.exit_code, result.stdout + result.stderr


def _seq_of(store: Store, entity_id: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(audit_log.c.seq).where(audit_log.c.entity_id == entity_id)) or 0)


def test_events_are_chained_in_order_and_verify_passes(db_url: str) -> None:
    store = _store_with_events(db_url)
    with store.engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings().all()
    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(1, len(rows) + 1))
    assert all(r["prev_hash"] == p["hash"] for p, r in itertools.pairwise(rows))
    assert all(r["hash"] == audit.event_hash(r) for r in rows)
    code, out = _verify(db_url)
    assert code == 0, out
    assert f"{len(rows)} audit events checked" in out
    store.dispose()


def test_a_changed_event_is_named(db_url: str) -> None:
    store = _store_with_events(db_url)
    target = _seq_of(store, "C-3")
    with store.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == target).values(purpose="nothing to see"))
    code, out = _verify(db_url)
    assert code == 3
    assert f"audit log broken at audit event {target} " in out
    assert "changed" in out
    store.dispose()


def test_a_deleted_event_is_named_by_the_gap_it_leaves(db_url: str) -> None:
    store = _store_with_events(db_url)
    target = _seq_of(store, "C-2")
    with store.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == target))
    code, out = _verify(db_url)
    assert code == 3
    assert f"audit log broken at audit event {target + 1} " in out
    assert "deleted" in out
    store.dispose()


def test_a_tail_cut_off_after_a_clean_verify_is_caught_by_the_next(db_url: str) -> None:
    store = _store_with_events(db_url)
    assert _verify(db_url)[0] == 0
    with store.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == _seq_of(store, "C-5")))
    code, out = _verify(db_url)
    assert code == 3
    assert "cut short" in out
    store.dispose()


def test_reordered_events_are_named(db_url: str) -> None:
    store = _store_with_events(db_url)
    first, second = _seq_of(store, "C-1"), _seq_of(store, "C-2")
    with store.begin() as conn:  # swap their positions (through a free number: seq is unique)
        conn.execute(update(audit_log).where(audit_log.c.seq == first).values(seq=-1))
        conn.execute(update(audit_log).where(audit_log.c.seq == second).values(seq=first))
        conn.execute(update(audit_log).where(audit_log.c.seq == -1).values(seq=second))
    code, out = _verify(db_url)
    assert code == 3
    assert f"audit log broken at audit event {first} " in out
    store.dispose()


def test_a_cut_off_tail_is_caught_by_the_seal(db_url: str) -> None:
    store = _store_with_events(db_url)
    sealed = runner.invoke(app, ["audit", "seal", "--db", db_url])
    assert sealed.exit_code == 0, sealed.output
    seal = sealed.stdout.strip()
    assert audit.Seal.parse(seal).seq == _seq_of(store, "C-5")
    with store.begin() as conn:  # the newest two events go; the rest is a consistent chain
        conn.execute(delete(audit_log).where(audit_log.c.seq >= _seq_of(store, "C-4")))
    code, out = _verify(db_url)
    assert code == 3
    assert "cut short" in out
    assert seal in out
    code, out = _verify(db_url, "--seal", "ASEAL1-1-" + "0" * 64)
    assert code == 3
    store.dispose()


def test_a_rolled_back_event_leaves_no_trace_and_no_gap(db_url: str) -> None:
    store = _store_with_events(db_url, 2)

    def refused_write() -> None:
        with store.begin() as conn:
            audit.record(conn, actor="x", action=audit.AuditAction.READ, entity="case", purpose="p")
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        refused_write()
    _store_with_events(db_url, 1).dispose()
    assert _verify(db_url)[0] == 0
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(audit_log).where(audit_log.c.actor == "x")) == 0
    store.dispose()


def _append_many(db_url: str, home: str, actor: str, n: int) -> None:
    import os

    os.environ["TIPSOM_HOME"] = home
    store = Store.open(db_url)
    for i in range(n):
        with store.begin() as conn:
            audit.record(conn, actor=actor, action=audit.AuditAction.READ, entity="case", entity_id=f"{actor}-{i}",
                         purpose="concurrency test")
    store.dispose()


@pytest.mark.slow
def test_two_processes_writing_at_once_keep_one_chain(db_url: str, tmp_path: Path) -> None:
    Store.init(db_url).dispose()
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_append_many, args=(db_url, str(tmp_path), f"w{k}", 40)) for k in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    store = Store.open(db_url)
    with store.engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(audit_log))
        result = audit.verify(conn)
    assert result.intact, [str(f) for f in result.findings]
    assert result.events_checked == count >= 80
    store.dispose()


def test_events_written_before_the_chain_are_chained_by_the_migration(db_url: str) -> None:
    from alembic import command

    from tipsom.store.db import alembic_config

    store = Store(engine_for(db_url))  # a bare handle on the empty database, brought to the first revision only
    with store.engine.begin() as conn:
        cfg = alembic_config(db_url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        for i in range(3):
            conn.exec_driver_sql("INSERT INTO audit_log (at, actor, action, entity, purpose) "
                                 f"VALUES ('2026-01-0{i + 1} 10:00:00', 'old', 'read', 'case', 'before')")
    store.migrate()
    with store.engine.connect() as conn:
        result = audit.verify(conn)
    assert result.intact
    assert result.events_checked == 3
    store.dispose()
