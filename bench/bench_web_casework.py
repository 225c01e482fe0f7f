"""Casework pages under load (issue 16): "My work" and a busy case's page, same harness as the web benchmark.

A demo store of ``TIPSOM_BENCH_CASEWORK_CASES`` cases (default 100,000; kept
under ``bench/work/web-casework-store``) gets one busy case of the demo
caseworker's organisation: 50 tasks assigned to the caseworker and 20
referrals sent from it, and 20 referrals the other demo organisation sent to
the caseworker's (so "My work" lists 50 tasks and 20 incoming referrals).
``tipsom serve --workers 2`` is then loaded by wrk with 20 users pausing
0.5-1.5 s, as in :mod:`bench_web`, on "My work", the case page and its
casework sections (which htmx loads into the case page).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_web as web
from common import ROOT, measure, python_cmd, write_result

CASES = int(os.environ.get("TIPSOM_BENCH_CASEWORK_CASES", "100000"))
TASKS, REFERRALS, TARGET_MS = 50, 20, 100.0

SEED = f"""
import datetime as dt
from sqlalchemy import select
from tipsom.casework import referrals, tasks
from tipsom.casework.access import Actor
from tipsom.casework.enums import ReferralReason, Service, Urgency
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.web.accounts import DEMO_OTHER_ORG_USER, get_user
from tipsom.web.organisations import find

store = Store.open()
cases = REGISTRY["case"]
now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
with store.engine.connect() as conn:
    a_user, b_user = get_user(conn, username="demo.caseworker"), get_user(conn, username=DEMO_OTHER_ORG_USER)
    a_org, b_org = find(conn, name=a_user.organisation), find(conn, name=b_user.organisation)
    busy = conn.scalar(select(cases.c.id).where(cases.c.reporting_org == a_org.name).order_by(cases.c.id))
    theirs = conn.scalar(select(cases.c.id).where(cases.c.reporting_org == b_org.name).order_by(cases.c.id))
a, b = Actor(a_user.username, a_org.code), Actor(b_user.username, b_org.code)
for i in range({TASKS}):
    tasks.create_task(store, a, busy, title=f"Follow-up {{i}}", assignee=a.username,
                      due_on=now.date() + dt.timedelta(days=i - 10), now=now)
for sender, receiver, case_id in ((a, b, busy), (b, a, theirs)):
    for i in range({REFERRALS}):
        made = referrals.create_referral(
            store, sender, case_id, to_org=receiver.org_code, service=Service.SHELTER,
            reason=ReferralReason.ADDITIONAL_SERVICES_REQUIRED, urgency=Urgency.URGENT,
            consent=referrals.Consent(sender.username, now), summary=f"Referral {{i}}: needs a safe bed", now=now)
        referrals.send(store, sender, made.id, now=now)
print(busy)
"""


def main() -> None:
    web.CASES, web.WORK = CASES, ROOT / "bench" / "work" / "web-casework-store"
    scratch = Path(tempfile.mkdtemp(prefix="tipsom-bench-casework-"))
    env = {"TIPSOM_HOME": str(web.WORK / "var"), "TIPSOM_WEB_COOKIE_SECURE": "false"}
    started_load = os.getloadavg()[0]
    try:
        web._store(env)  # a rebuilt store has no busy.txt: the busy case is seeded again
        if not (web.WORK / "busy.txt").exists():
            seeded = measure(python_cmd(SEED), env=env)
            if seeded.returncode != 0:
                raise RuntimeError(f"seeding casework failed: {seeded.stderr[-2000:]}")
            (web.WORK / "busy.txt").write_text(seeded.stdout.strip().splitlines()[-1])
        busy = (web.WORK / "busy.txt").read_text().strip()
        server, base = web._serve(env)
        try:
            cookie = web._sign_in(base)
            mix = {"my_work": ["/work"], "case_page": [f"/cases/{busy}"],
                   "case_casework_sections": [f"/cases/{busy}/casework"]}
            loads = [web._wrk(name, base, cookie, paths, scratch) for name, paths in mix.items()]
        finally:
            web._stop(server)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write_result("web-casework", _report(loads, (started_load, os.getloadavg()[0])))


def _report(loads: list[web.Load], load_average: tuple[float, float]) -> str:
    rows = [f"| {load.name} | {load.p50_ms:.1f} | {load.p95_ms:.1f} | < {TARGET_MS:.0f} | "
            f"{'met' if load.p95_ms < TARGET_MS and not load.errors else 'NOT met'} | "
            f"{load.requests / load.seconds:.0f} | {load.errors} |" for load in loads]
    size = "" if CASES >= 100_000 else (
        f" **Smaller than the issue's 100,000 cases** (`TIPSOM_BENCH_CASEWORK_CASES={CASES}`): the shared"
        " machine could not build the large store in the time available.")
    return f"""## Casework pages (issue 16)

{CASES:,} synthetic demo cases.{size} One case of the demo caseworker's organisation has {TASKS} tasks (all
assigned to the caseworker) and {REFERRALS} referrals sent; the other demo organisation sent {REFERRALS} referrals to
the caseworker's, so "My work" lists {TASKS} tasks and {REFERRALS} incoming referrals. The history versions the
issue names are not part of these pages yet (the case history is another change), so none are seeded.
`tipsom serve --workers 2`, {web.USERS} users pausing 0.5-1.5 s between requests (wrk, {web.SECONDS} s per row),
as in the web benchmark. The case page is the page itself; its casework sections are the second request htmx makes
when the page loads. Load average {load_average[0]:.1f} at the start and {load_average[1]:.1f} at the end (2 cores).

| page | p50 ms | p95 ms | target p95 ms | result | requests/s | errors |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}
"""


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
