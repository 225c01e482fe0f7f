"""Chat ingestion benchmark: ``tipsom evidence ingest-chat`` on a generated WhatsApp export.

Target (issue 19): a 1,000,000-message export in under 60 s. The export is
written here in the Android layout (two people, every seventh message on three
lines, every eleventh a media line, one in fifty naming a phone number and one
in a hundred an indicator phrase), so reading, selector and indicator
extraction, sealing and storing are all measured, end to end through the CLI
on SQLite. ``BENCH_CHAT_MESSAGES`` sets the size (default 1,000,000).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import measure, python_cmd, write_result

MESSAGES = int(os.environ.get("BENCH_CHAT_MESSAGES", "1000000"))
TARGET_SECONDS = 60.0
CASE_ID = "BENCH-CHAT"
TIPSOM = str(Path(sys.executable).parent / "tipsom")
PEOPLE = ("Amina K", "+33 6 12 34 56 78")
ADD_CASE = f"""
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
store = Store.open()
now = audit.now()
with store.begin() as conn:
    conn.execute(REGISTRY["case"].insert().values(id={CASE_ID!r}, case_type="trafficking", status="open",
                                                  row_hash="0" * 64, created_at=now, updated_at=now))
store.dispose()
"""


def write_export(path: Path, n: int) -> None:
    start = datetime(2024, 3, 14, 21, 5)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            when = start + timedelta(seconds=20 * i)
            if i % 11 == 5:
                text = "<Media omitted>"
            elif i % 7 == 3:
                text = f"message {i}\nsecond line\nthird line"
            elif i % 50 == 7:
                text = f"call me on 06 12 34 {i % 100:02d} 78"
            elif i % 100 == 9:
                text = "you owe me 3000, pay back your debt"
            else:
                text = f"message {i} about the job in the city"
            out.write(f"{when:%d/%m/%Y, %H:%M} - {PEOPLE[i % 2]}: {text}\n")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-chat-") as tmp:
        home = Path(tmp)
        env = {"TIPSOM_HOME": str(home), "TIPSOM_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
               "TIPSOM_PHONE_REGION": "FR"}
        setup = measure(python_cmd(ADD_CASE), env=env)
        if setup.returncode != 0:
            raise RuntimeError("could not create the benchmark store")
        export = home / "WhatsApp Chat with Amina K.txt"
        write_export(export, MESSAGES)
        size_mb = export.stat().st_size / 1024**2
        load_before = os.getloadavg()[0]
        run = measure([TIPSOM, "evidence", "ingest-chat", str(export), "--case", CASE_ID, "--json",
                       "--actor", "bench"], env=env)
        if run.returncode != 0:
            raise RuntimeError("ingest-chat failed")
        printed = json.loads(run.stdout)
    rate = printed["messages"] / run.seconds
    projected = 1_000_000 / rate
    met = "met" if (MESSAGES >= 1_000_000 and run.seconds < TARGET_SECONDS) else (
        "not measured at full size" if MESSAGES < 1_000_000 else "NOT met")
    write_result("chats", f"""## Chat ingestion (evidence ingest-chat)

WhatsApp Android export of {printed['messages']:,} messages ({size_mb:.0f} MB), two participants,
{printed['attachments']:,} media lines, into a SQLite store: read, selectors and indicators extracted,
every text and name sealed, the original kept in the vault, one transaction.

| Messages | Wall time | Messages/s | Peak RSS | Projected for 1,000,000 | Target (< {TARGET_SECONDS:.0f} s) |
|---:|---:|---:|---:|---:|---|
| {printed['messages']:,} | {run.seconds:.1f} s | {rate:,.0f} | {run.peak_rss_mb:.0f} MB | {projected:.0f} s | {met} |

Selectors found: {len(printed['selectors'])}; indicator hits: {sum(printed['indicators'].values())}.
Load average (1 min) {load_before:.1f} before and {os.getloadavg()[0]:.1f} after the run on a shared
2-core machine: with other jobs on the cores the wall time is an upper bound.
""")


if __name__ == "__main__":
    main()
