"""Web benchmark: 100,000 demo cases, 20 concurrent users on loopback, measured with wrk.

Steps: create a store with ``tipsom init`` and ``tipsom demo --n 100000``, start
``tipsom serve`` (2 worker processes, one per core), sign in as a demo
caseworker, then let wrk hold 20 connections open for a fixed time against the
case list, a search, random case pages, the dashboard, and a static file
served by the same stack (the baseline: what the server costs before any
tipsom code runs). A Lua hook prints wrk's 50th and 95th percentiles.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, measure, write_result

CASES = int(os.environ.get("TIPSOM_BENCH_WEB_CASES", "100000"))
USERS = 20
SECONDS = 30
SATURATION_SECONDS = 10
PORT = 18765
TIPSOM = str(Path(sys.executable).with_name("tipsom"))
REPORT_LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("P50_MS %.1f\\nP95_MS %.1f\\nREQUESTS %d\\nERRORS %d\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.requests, errors))
end
"""


class Load(NamedTuple):
    name: str
    p50_ms: float
    p95_ms: float
    requests: int
    errors: int
    seconds: int
    think: bool


def _sign_in(base: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "login page without CSRF token"
    form = urllib.parse.urlencode({"username": "demo.caseworker", "password": "tipsom-demo-2024",
                                   "next": "/cases", "csrf_token": token.group(1)}).encode()
    opener.open(f"{base}/login", data=form).read()
    session = [c.value for c in jar if c.name == "tipsom_session"]
    assert session, "login failed"
    return session[0]


def _wrk(name: str, base: str, cookie: str, paths: list[str], workdir: Path, *, think: bool = True) -> Load:
    """Run wrk with USERS connections; with ``think`` each user waits 0.5-1.5 s between requests."""
    script = workdir / f"{name}.lua"
    quoted = ", ".join(f'"{p}"' for p in paths)
    pause = "delay = function()\n  return math.random(500, 1500)\nend\n" if think else ""
    script.write_text(f"paths = {{{quoted}}}\nrequest = function()\n"
                      "  return wrk.format('GET', paths[math.random(#paths)])\nend\n" + pause + REPORT_LUA)
    seconds = SECONDS if think else SATURATION_SECONDS
    out = subprocess.run(["wrk", f"-t{min(USERS, 2)}", f"-c{USERS}", f"-d{seconds}s", "--timeout", "10s",
                          "-H", f"Cookie: tipsom_session={cookie}", "-s", str(script), base],
                         capture_output=True, text=True, check=True).stdout
    values = dict(re.findall(r"^(P50_MS|P95_MS|REQUESTS|ERRORS) (\S+)$", out, re.M))
    return Load(name, float(values["P50_MS"]), float(values["P95_MS"]), int(values["REQUESTS"]),
                int(values["ERRORS"]), seconds, think)


def _first_request_seconds(base: str, cookie: str, path: str) -> float:
    request = urllib.request.Request(f"{base}{path}", headers={"Cookie": f"tipsom_session={cookie}"})
    start = time.perf_counter()
    urllib.request.urlopen(request).read()
    return time.perf_counter() - start


def main() -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="tipsom-bench-web-"))
    # Plain HTTP on loopback: the benchmark's own client would not send Secure cookies.
    env = {"TIPSOM_HOME": str(work / "var"), "TIPSOM_WEB_COOKIE_SECURE": "false"}
    try:
        measure([TIPSOM, "init"], env=env)
        loaded = measure([TIPSOM, "demo", "--n", str(CASES), "--quiet"], env=env)
        if loaded.returncode != 0:
            raise RuntimeError("tipsom demo failed")
        with sqlite3.connect(work / "var" / "tipsom.db") as db:
            org = db.execute("select organisation from web_users where username='demo.caseworker'").fetchone()[0]
            case_ids = [r[0] for r in db.execute(
                "select id from cases where reporting_org = ? order by random() limit 500", (org,))]
            org_cases = db.execute("select count(*) from cases where reporting_org = ?", (org,)).fetchone()[0]
        server = subprocess.Popen([TIPSOM, "serve", "--port", str(PORT), "--workers", "2"],
                                  env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{PORT}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{base}/login").read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            cookie = _sign_in(base)
            cold_dashboard = _first_request_seconds(base, cookie, "/dashboard")
            mix = {
                "baseline_static_file": ["/static/css/app.css"],
                "case_list": [f"/cases?page={p}" for p in range(1, 41)],
                "case_list_search": [f"/cases?q={c[:9]}" for c in case_ids[:40]],
                "case_page": [f"/cases/{c}" for c in case_ids],
                "dashboard": ["/dashboard", "/dashboard?year=2021", "/dashboard?year=2022"],
            }
            loads = [_wrk(name, base, cookie, paths, work) for name, paths in mix.items()]
            loads += [_wrk(name, base, cookie, paths, work, think=False) for name, paths in mix.items()]
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_result("web", _report(loads, loaded.seconds, cold_dashboard, org_cases))


def _report(loads: list[Load], load_seconds: float, cold_dashboard: float, org_cases: int) -> str:
    targets = {"case_list": 200.0, "case_list_search": 200.0, "case_page": 200.0, "dashboard": 1000.0}
    rows = []
    for load in loads:
        target = targets.get(load.name)
        if target is None:
            verdict = "baseline"
        elif not load.think:
            verdict = "(capacity)"
        else:
            verdict = "met" if load.p95_ms < target and not load.errors else "NOT met"
        mode = "20 users, 0.5-1.5 s think time" if load.think else "20 connections, no pause"
        rows.append(f"| {load.name} | {mode} | {load.p50_ms:.1f} | {load.p95_ms:.1f} | "
                    f"{'-' if target is None else f'< {target:.0f}'} | {verdict} | "
                    f"{load.requests / load.seconds:.0f} | {load.errors} |")
    cold = "met" if cold_dashboard < 1.0 else "NOT met"
    return f"""## Web application (issue 4)

{CASES:,} synthetic demo cases (`tipsom demo`, loaded in {load_seconds:.0f} s); `tipsom serve --workers 2` on
loopback (plain HTTP, so `TIPSOM_WEB_COOKIE_SECURE=false`), signed in as a caseworker of the busiest demo
organisation ({org_cases:,} visible cases). Each page request picks a random page or case from a list.
The targets are judged on {USERS} concurrent users, modelled as {USERS} wrk connections that each pause
0.5-1.5 s between requests as a person clicking does ({SECONDS} s per row). The rows without pauses keep
{USERS} requests in flight at all times ({SATURATION_SECONDS} s per row): they show the capacity of the
2-core machine, not a user-facing latency. The baseline is a static file served by the same stack, the
floor under which no page can go.

| endpoint | load | p50 ms | p95 ms | target p95 ms | result | requests/s | errors |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

First dashboard request after start (charts drawn, nothing cached): {cold_dashboard * 1000:.0f} ms
(target < 1000 ms: {cold}). Later dashboard requests are served from the chart cache (kept 5 minutes,
dropped on every save), which is what the load row measures.
"""


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
