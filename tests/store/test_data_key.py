"""The data key cannot be confused with another: check value, refusals, init, and key rotation."""

from __future__ import annotations

import base64
import hashlib
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import create_engine, delete, select
from typer.testing import CliRunner

from tipsom.application import metadata as all_tables
from tipsom.cli.main import app
from tipsom.exchange.importer import import_file
from tipsom.exchange.native import DocumentSink
from tipsom.schema.document import PERSONS
from tipsom.settings import get_settings
from tipsom.store.crypto import FieldCipher, create_key_file, key_id, read_key_file
from tipsom.store.db import Store
from tipsom.store.keys import (
    KEY_CHECK,
    KeyMismatch,
    RotationStage,
    pending_key_path,
    recorded_key_id,
    rotate_data_key,
    sealed_columns,
)
from tipsom.store.reader import iter_documents
from tipsom.store.tables import REGISTRY, store_meta
from tipsom.synth.cases import CaseGenerator
from tipsom.web import accounts

TIPSOM = str(Path(sys.executable).with_name("tipsom"))


def _new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _write_persons(path: Path, persons: int, seed: int = 5) -> Path:
    """Synthetic cases until at least ``persons`` persons are written."""
    written = 0
    with DocumentSink(path) as sink:
        for doc in CaseGenerator(seed).cases(persons):
            sink.write(doc)
            written += len(doc[PERSONS])
            if written >= persons:
                break
    return path


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _run(*args: str, env: dict[str, str] | None = None) -> Ran:
    """A ``tipsom`` command run in this process (the SIGKILL test runs the real executable)."""
    result = CliRunner().invoke(app, list(args), env=env)
    return Ran(result.exit_code, result.stdout, result.stderr)


def _state(url: str) -> str:
    """A fingerprint of everything stored: the SQLite file's bytes, or every row on PostgreSQL."""
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        digest = hashlib.sha256(db.read_bytes())
        wal = db.with_name(db.name + "-wal")
        if wal.exists():
            digest.update(wal.read_bytes())
        return digest.hexdigest()
    engine = create_engine(url)
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in all_tables().sorted_tables:
            digest.update(repr(sorted(map(repr, conn.execute(select(table))))).encode())
    engine.dispose()
    return digest.hexdigest()


def _personal_values(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    """Every person's personal fields, decrypted, keyed by case and person."""
    personal = [f.name for f in store.model["person"].personal_fields]
    with store.engine.connect() as conn:
        return {(doc["case_id"], p["person_id"]): {n: p[n] for n in personal}
                for doc in iter_documents(conn, store.model, cipher=store.cipher) for p in doc[PERSONS]}


@pytest.fixture
def stored(db_url: str, tmp_path: Path) -> str:
    """A store initialised with a key file and holding a few synthetic cases."""
    create_key_file(get_settings().key_path)
    store = Store.init(db_url)
    import_file(store, _write_persons(tmp_path / "cases.csv", 40), actor="tester")
    store.dispose()
    return db_url


def _id_at(path: Path) -> str | None:
    found = read_key_file(path)
    return found.id if found else None


def _refused(result: Ran, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tipsom: ")
    for needle in needles:
        assert needle in lines[0]


def test_a_key_file_replaced_by_another_key_is_refused_before_any_write(stored: str, tmp_path: Path) -> None:
    key_path = get_settings().key_path
    good = read_key_file(key_path)
    assert good is not None
    before = _state(stored)
    key_path.write_text(_new_key() + "\n")
    other = read_key_file(key_path)
    assert other is not None
    for args in (("import", "cases", "-q", str(tmp_path / "cases.csv")),
                 ("export", "cases", "-q", "-o", str(tmp_path / "out.csv"), "--include-personal"),
                 ("key", "check"), ("key", "rotate")):
        _refused(_run(*args, "--db", stored), good.id, other.id, str(key_path))
        assert _state(stored) == before
    assert not pending_key_path(get_settings()).exists()


def test_a_wrong_tipsom_key_is_refused_before_any_write(db_url: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    right = _new_key()
    monkeypatch.setenv("TIPSOM_KEY", right)
    store = Store.init(db_url)
    import_file(store, _write_persons(tmp_path / "cases.csv", 30), actor="tester")
    store.dispose()
    monkeypatch.delenv("TIPSOM_KEY")
    before = _state(db_url)
    wrong = _new_key()
    result = _run("import", "cases", "-q", str(tmp_path / "cases.csv"), "--db", db_url, env={"TIPSOM_KEY": wrong})
    _refused(result, "TIPSOM_KEY", key_id(base64.urlsafe_b64decode(right)), key_id(base64.urlsafe_b64decode(wrong)))
    assert _state(db_url) == before
    assert _run("key", "check", "--db", db_url, env={"TIPSOM_KEY": right}).returncode == 0


def test_tipsom_key_and_key_file_disagreeing_are_refused(stored: str, tmp_path: Path) -> None:
    key_path = get_settings().key_path
    good = read_key_file(key_path)
    assert good is not None
    before = _state(stored)
    other = _new_key()
    result = _run("import", "cases", "-q", str(tmp_path / "cases.csv"), "--db", stored, env={"TIPSOM_KEY": other})
    _refused(result, "disagree", good.id, key_id(base64.urlsafe_b64decode(other)), str(key_path))
    assert _state(stored) == before
    agreeing = key_path.read_text().strip()
    assert _run("key", "check", "--db", stored, env={"TIPSOM_KEY": agreeing}).returncode == 0


def test_init_after_the_key_file_was_deleted_refuses_to_create_a_new_key(stored: str) -> None:
    key_path = get_settings().key_path
    good = read_key_file(key_path)
    assert good is not None
    key_path.unlink()
    before = _state(stored)
    _refused(_run("init", "--db", stored), good.id, str(key_path), "restore")
    assert not key_path.exists()
    assert _state(stored) == before


def test_init_refuses_a_new_key_over_encrypted_data_without_a_check_value(db_url: str, tmp_path: Path) -> None:
    """A store from before check values: its ciphertext alone is enough to refuse a fresh key."""
    key_path = get_settings().key_path
    create_key_file(key_path)
    store = Store.init(db_url)
    import_file(store, _write_persons(tmp_path / "cases.csv", 10), actor="tester")
    with store.begin() as conn:
        conn.execute(delete(store_meta))
    store.dispose()
    key_path.unlink()
    before = _state(db_url)
    _refused(_run("init", "--db", db_url), "already holds encrypted personal data")
    assert not key_path.exists()
    assert _state(db_url) == before


@pytest.mark.parametrize("content", [b"\xff\xfe\x00binary", b"not base64 at all!!\n",
                                     base64.urlsafe_b64encode(b"short") + b"\n", b"", "directory"])
def test_a_malformed_key_file_is_one_line_exit_2(content: bytes | str, tmp_path: Path) -> None:
    key_path = get_settings().key_path
    key_path.parent.mkdir(parents=True, exist_ok=True)
    if content == "directory":
        key_path.mkdir()
    else:
        assert isinstance(content, bytes)
        key_path.write_bytes(content)
    db = f"sqlite:///{tmp_path / 'k.db'}"
    Store.init(db).dispose()  # a created store, so the key is what the commands refuse
    for args in (("key", "check"), ("import", "cases", "-q", str(_write_persons(tmp_path / "c.csv", 3)))):
        _refused(_run(*args, "--db", db), str(key_path))


@pytest.mark.parametrize("value", ["@@@", base64.urlsafe_b64encode(b"x" * 31).decode()])
def test_a_malformed_tipsom_key_is_one_line_exit_2(value: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    Store.init(db).dispose()
    _refused(_run("key", "check", "--db", db, env={"TIPSOM_KEY": value}), "TIPSOM_KEY")


def test_a_store_without_check_value_adopts_only_a_key_its_data_opens_under(
        stored: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key_path = get_settings().key_path
    good = read_key_file(key_path)
    assert good is not None
    store = Store.init(stored)
    with store.begin() as conn:
        conn.execute(delete(store_meta))
    store.dispose()
    key_path.rename(key_path.with_name("away"))
    monkeypatch.setenv("TIPSOM_KEY", _new_key())
    with pytest.raises(KeyMismatch, match="does not open"):
        Store.init(stored).data_key  # noqa: B018  (the verification under test)
    monkeypatch.delenv("TIPSOM_KEY")
    key_path.with_name("away").rename(key_path)
    store = Store.init(stored)
    assert store.data_key.id == good.id
    with store.engine.connect() as conn:
        assert recorded_key_id(conn) == good.id
    store.dispose()


def _assert_readable_under(url: str, material: bytes) -> None:
    """Every sealed value in the store opens under ``material`` (the definition of a valid key)."""
    cipher = FieldCipher(material)
    engine = create_engine(url)
    with engine.connect() as conn:
        for _table, _pk, sealed in sealed_columns(conn):
            for row in conn.execute(select(*sealed)):
                for col, blob in zip(sealed, row, strict=True):
                    if blob is not None:
                        cipher.open(col.name.removesuffix("_enc"), blob)
    engine.dispose()


@pytest.mark.slow
def test_key_rotate_round_trip_across_many_chunks(db_url: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Every chunk boundary of the rotation is crossed several times: chunks of 300 over 3,000 persons
    (1,000 on PostgreSQL) reseal and rehash exactly what 2,000-row chunks over 10,000 would, in a tenth
    of the time."""
    monkeypatch.setattr("tipsom.store.keys.ROTATE_CHUNK", 300)
    persons = 3_000 if db_url.startswith("sqlite") else 1_000
    key_path = get_settings().key_path
    create_key_file(key_path)
    old = read_key_file(key_path)
    assert old is not None
    store = Store.init(db_url)
    source = _write_persons(tmp_path / "cases.csv", persons)
    import_file(store, source, actor="tester")
    user = accounts.create_user(store, username="ana", password="correct horse battery staple", organisation="NGO",
                                role=accounts.Role.CASEWORKER, actor="tester")
    secret = accounts.new_totp_secret()
    assert accounts.enable_totp(store, user, secret, pyotp.TOTP(secret).now())
    before = _personal_values(store)
    assert len(before) >= persons
    report = rotate_data_key(store.engine, store.model, get_settings(), actor="tester", purpose="test")
    store.dispose()
    assert report.stage is RotationStage.REENCRYPTED
    new = read_key_file(key_path)
    assert new is not None
    assert new.id == report.new_id != old.id
    backup = key_path.with_name(f"tipsom.key.old-{old.id}")
    assert _id_at(backup) == old.id
    assert backup.stat().st_mode & 0o777 == 0o600
    assert key_path.stat().st_mode & 0o777 == 0o600
    assert not pending_key_path(get_settings()).exists()
    after_store = Store.init(db_url)
    assert _personal_values(after_store) == before
    # the code of the next time step: enabling consumed this step's code, and codes are single-use
    next_code = pyotp.TOTP(secret).at(int(time.time()) + accounts.TOTP_PERIOD)
    assert accounts.verify_totp(after_store, user, next_code, client="test")
    with after_store.engine.connect() as conn:
        assert recorded_key_id(conn) == new.id
        person = REGISTRY["person"]
        names = {r.key: r.pseudo_name for r in conn.execute(select(person.c.key, person.c.pseudo_name))}
    cipher = FieldCipher(new.material)
    for (cid, pid), values in before.items():
        parts = [values[f] for f in ("given_name", "family_name") if values[f] is not None]
        assert names[f"{cid}/{pid}"] == (cipher.pseudonym("name", " ".join(parts)) if parts else None)
    again = import_file(after_store, source, actor="tester")
    assert again.written.unchanged == len(before)  # row hashes were re-keyed, not left under the old key
    after_store.dispose()
    with pytest.raises(InvalidTag):
        _assert_readable_under(db_url, old.material)


def test_a_rotation_interrupted_before_commit_keeps_the_old_key_and_resumes(
        stored: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key_path = get_settings().key_path
    old = read_key_file(key_path)
    assert old is not None
    store = Store.init(stored)
    before = _personal_values(store)

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("tipsom.store.keys._record_key_id", crash)
        with pytest.raises(KeyboardInterrupt):
            rotate_data_key(store.engine, store.model, get_settings(), actor="tester", purpose="test")
    pending = read_key_file(pending_key_path(get_settings()))
    assert pending is not None
    assert _id_at(key_path) == old.id
    _assert_readable_under(stored, old.material)
    report = rotate_data_key(store.engine, store.model, get_settings(), actor="tester", purpose="test")
    store.dispose()
    assert report.new_id == pending.id  # the pending key was reused, not replaced by a third
    store = Store.init(stored)
    assert _personal_values(store) == before
    store.dispose()


def test_a_rotation_committed_but_not_installed_is_refused_then_finished(
        stored: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key_path = get_settings().key_path
    old = read_key_file(key_path)
    assert old is not None
    store = Store.init(stored)
    before = _personal_values(store)

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("tipsom.store.keys._install", crash)
        with pytest.raises(KeyboardInterrupt):
            rotate_data_key(store.engine, store.model, get_settings(), actor="tester", purpose="test")
    store.dispose()
    pending = read_key_file(pending_key_path(get_settings()))
    assert pending is not None
    _assert_readable_under(stored, pending.material)
    _refused(_run("key", "check", "--db", stored), "rotation was committed but not finished")
    finish = _run("key", "rotate", "--db", stored)
    assert finish.returncode == 0, finish.stderr
    assert "finished an interrupted rotation" in finish.stdout
    assert _id_at(key_path) == pending.id
    assert _id_at(key_path.with_name(f"tipsom.key.old-{old.id}")) == old.id
    store = Store.init(stored)
    assert _personal_values(store) == before
    store.dispose()


def test_key_rotate_with_tipsom_key_prints_the_new_key_once(db_url: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    right = _new_key()
    monkeypatch.setenv("TIPSOM_KEY", right)
    store = Store.init(db_url)
    import_file(store, _write_persons(tmp_path / "cases.csv", 10), actor="tester")
    store.dispose()
    monkeypatch.delenv("TIPSOM_KEY")
    result = _run("key", "rotate", "-q", "--db", db_url, env={"TIPSOM_KEY": right})
    assert result.returncode == 0, result.stderr
    printed = [line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("new data key")]
    assert len(printed) == 1
    assert "TIPSOM_KEY" in result.stderr
    assert not get_settings().key_path.exists()
    _refused(_run("key", "check", "--db", db_url, env={"TIPSOM_KEY": right}))
    assert _run("key", "check", "--db", db_url, env={"TIPSOM_KEY": printed[0]}).returncode == 0


@pytest.mark.slow
def test_sigkill_during_rotate_leaves_one_valid_key_and_the_rerun_completes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    key_path = get_settings().key_path
    create_key_file(key_path)
    old = read_key_file(key_path)
    assert old is not None
    store = Store.init(url)
    # Big enough that re-encryption outlasts the first progress line by seconds (2,000 rows per chunk).
    import_file(store, _write_persons(tmp_path / "cases.csv", 6_000), actor="tester")
    before = _personal_values(store)
    store.dispose()
    proc = subprocess.Popen([TIPSOM, "key", "rotate", "--db", url], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line.startswith("re-encrypting"), line  # killed while it re-encrypts, after the first chunk
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL  # it was still working when killed
    engine = create_engine(url)
    with engine.connect() as conn:
        recorded = recorded_key_id(conn)
    engine.dispose()
    pending = read_key_file(pending_key_path(get_settings()))
    valid = old if recorded == old.id else pending
    assert valid is not None
    assert valid.id == recorded
    _assert_readable_under(url, valid.material)
    rerun = _run("key", "rotate", "-q", "--db", url)
    assert rerun.returncode == 0, rerun.stderr
    new = read_key_file(key_path)
    assert new is not None
    assert new.id != old.id
    store = Store.init(url)
    assert store.data_key.id == new.id
    assert _personal_values(store) == before
    with store.engine.connect() as conn:
        assert conn.scalar(select(store_meta.c.value).where(store_meta.c.name == KEY_CHECK)) == new.id
    store.dispose()
