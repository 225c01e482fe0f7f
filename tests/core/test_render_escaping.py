"""Acceptance: every HTML report shows hostile text a user controls as text, never as markup.

Each report is rendered through its public function with a value a user or
an adversary controls (ad text, case ids, exhibit names and notes, list
names, context series and source names, route names, law titles) carrying a
script tag, an attribute-breaking quote of each kind and an ampersand. The
value must be on the page, escaped, and no raw tag from it may survive.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tipsom.core.render import environment, render

#: Closes a text node, opens a script; breaks out of a double- and of a single-quoted attribute.
HOSTILE = """<script>alert(1)</script>"><img src=x onerror=alert(2)>' onmouseover='alert(3)' &amp;"""
#: The same without ``/``, for values that must be file names.
HOSTILE_NAME = """<img src=x onerror=alert(2)>" ' onmouseover='alert(3)' &amp;"""
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_IMG = "&lt;img src=x onerror=alert(2)&gt;"
SRC = Path(__file__).resolve().parents[2] / "src" / "tipsom"


def assert_escaped(page: str, shown: str = ESCAPED_SCRIPT) -> None:
    """The hostile value is on the page as text, and nothing from it is markup."""
    low = page.lower()
    assert shown.lower() in low, "the hostile value should be shown (escaped), not dropped"
    assert not re.search(r"<\s*(script|img)\b", low), "a raw tag from user text reached the page"
    assert "' onmouseover=" not in low
    assert '" onmouseover=' not in low
    assert "&amp;amp;" in low, "a literal ampersand must be escaped too"


def test_osint_report_escapes_ad_text_and_ad_ids() -> None:
    from tipsom.osint.pipeline import scan_all
    from tipsom.osint.profile import profile_cluster
    from tipsom.osint.records import Ad
    from tipsom.osint.report import ReportOptions, render_report

    phone = "+44 7700 900123"
    ads = [Ad(f"ad-{i}{HOSTILE}", f"New girls {HOSTILE} call {phone} tonight, no questions {i}",
              title=HOSTILE, url=f"http://example.invalid/{HOSTILE}") for i in range(3)]
    scans, _ = scan_all(ads)
    by_id = {s.ad.ad_id: s for s in scans}
    profile = profile_cluster(f"C1{HOSTILE}", scans)
    page = render_report([profile], by_id, {a.ad_id: HOSTILE for a in ads}, ReportOptions(maps=0),
                         title=HOSTILE)
    assert_escaped(page)
    assert page.count("<mark") >= 1  # highlighting is still markup tipsom made


def test_estimate_report_and_comparison_escape_list_names_and_source() -> None:
    from tipsom.estimate.comparison import Language, Method, Row, build_comparison_html
    from tipsom.estimate.mse import compare_methods, estimate, estimate_strata
    from tipsom.estimate.report import build_html
    from tipsom.estimate.table import CaptureTable

    lists = (f"police{HOSTILE}", "ngo", "labour")
    rows = [((1, 0, 0), 60), ((0, 1, 0), 50), ((0, 0, 1), 40), ((1, 1, 0), 12), ((1, 0, 1), 9),
            ((0, 1, 1), 7), ((1, 1, 1), 3)]
    table = CaptureTable.from_histories(lists, rows, source=f"cases{HOSTILE}.csv")
    result = estimate(table)
    stratum = (("region", HOSTILE),)
    strata = estimate_strata({stratum: table}, {stratum: 250_000.0})
    page = build_html(result, compare_methods(table), strata, title=HOSTILE)
    assert_escaped(page)
    assert "per 100,000 population" in page
    for lang in Language:
        page = build_comparison_html(table, [Row(Method.STEPWISE, 200, 150, 260),
                                             Row(Method.DGA, missing=HOSTILE)], lang)
        assert_escaped(page)


def test_custody_report_escapes_case_id_exhibit_name_and_notes(tmp_path: Path) -> None:
    from tests.evidence.conftest import add_case
    from tipsom.evidence.custody import CustodyAction
    from tipsom.evidence.locker import EvidenceLocker, Intake
    from tipsom.evidence.report import custody_html
    from tipsom.evidence.verify import verify
    from tipsom.store.db import Store

    exhibit = tmp_path / f"{HOSTILE_NAME}.txt"
    exhibit.write_bytes(b"chat export\n")
    locker = EvidenceLocker.for_store(Store.init())
    try:
        case_id = f"TIP{HOSTILE}"
        add_case(locker.engine, case_id)
        [(item, _)] = locker.add_files([exhibit], Intake(case_id, f"Officer{HOSTILE}", authority=HOSTILE,
                                                         note=HOSTILE))
        locker.record(item.exhibit_number, CustodyAction.ANALYSIS, "Analyst", note=HOSTILE)
        page = custody_html(locker, item, verify(locker, case_id=case_id))
    finally:
        locker.store.dispose()
    assert_escaped(page)
    assert ESCAPED_IMG.replace("&gt;", "&gt;&#34;") in page  # the exhibit's file name, quote and all


def test_context_reports_and_route_card_escape_series_route_and_contact(tmp_path: Path) -> None:
    from tipsom.context.card import Language, render_card
    from tipsom.context.mmp import import_mmp
    from tipsom.context.panel import fit_panel, write_model_outputs
    from tipsom.context.routes import route_summary, route_years, write_routes_report

    sample = tmp_path / "mmp.csv"
    with sample.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Incident Date", "Number of Dead", "Minimum Estimated Number of Missing",
                         "Migration route", "Coordinates", "Cause of Death"])
        writer.writerow(["2019-01-01", "3", "2", f"Route{HOSTILE}", "33.5, 12.5", HOSTILE])
        writer.writerow(["2020-02-01", "1", "0", f"Route{HOSTILE}", "31.6, -110.5", "Drowning"])
    incidents = import_mmp(sample).incidents
    routes = write_routes_report(incidents, route_years(incidents), tmp_path / "routes.html")
    assert_escaped(routes.read_text(encoding="utf-8"))
    for lang in Language:
        assert_escaped(render_card(route_summary(incidents, f"Route{HOSTILE}"), lang, contact=HOSTILE))

    rng = np.random.default_rng(5)
    series = f"series{HOSTILE}"
    panel = pd.DataFrame({"country": [f"C{i % 12:02d}" for i in range(96)], "year": [2010 + i // 12 for i in range(96)],
                          "victims": rng.poisson(5, 96), series: rng.normal(size=96)})
    written = write_model_outputs(fit_panel(panel, [series]), panel, tmp_path / "model", lag=1,
                                  suppression_threshold=5)
    assert_escaped(written[-1].read_text(encoding="utf-8"))


def test_context_index_template_escapes_the_index_and_source_names() -> None:
    """The index report's own values (spec and indicator names, sources) through its template.

    Running a whole index takes the reference data and Monte Carlo runs; the
    Python side only passes these strings through, so the template is rendered
    with them directly.
    """
    from types import SimpleNamespace

    spec = SimpleNamespace(name=HOSTILE, outliers=SimpleNamespace(skew=2, kurtosis=3.5, winsorise_max=5))
    audit = {"code": "x", "name": HOSTILE, "dimension": "d", "direction": "positive", "weight": "1",
             "values": 3, "shape": "", "treatment": "none", "source": HOSTILE}
    page = render("tipsom.context", "index_report.html", spec=spec, year=2020, units=1, scored=1, runs=8, seed=1,
                  map_svg="", interval_svg="", sobol_svg="", dimensions=["d"], rows=[], sobol=[],
                  audits=[audit], notes=[HOSTILE], spread=25, attribution="")
    assert_escaped(page)


def test_screening_gap_report_escapes_law_title_and_reviewer_notes() -> None:
    from tipsom.screening.legislation import gap_report_html, load_checklist, parse_review

    item = load_checklist().items[0].id
    review = parse_review({"country": HOSTILE, "law": f"Act{HOSTILE}", "reviewed_by": HOSTILE,
                           "items": {item: {"status": "partial", "citation": HOSTILE, "note": HOSTILE}}},
                          "review.yaml")
    assert_escaped(gap_report_html(review))


def test_statistics_report_tables_escape_their_cells() -> None:
    """The statistics report shows counts under code-list labels; its one table macro escapes them all."""
    env = environment("tipsom.report")
    assert env.autoescape is True or env.autoescape("report.html.j2")
    page = env.from_string('{% import "core/macros.html" as m %}{{ m.table(h, rows, caption=c, note=n) }}').render(
        h=[HOSTILE], rows=[(HOSTILE, "3")], c=HOSTILE, n=HOSTILE)
    assert_escaped(page)


@pytest.mark.parametrize("package", ["tipsom.report", "tipsom.estimate", "tipsom.osint", "tipsom.evidence",
                                     "tipsom.context", "tipsom.screening"])
def test_every_report_template_extends_the_base_page_and_autoescapes(package: str) -> None:
    env = environment(package)
    own = [n for n in env.list_templates() if "/" not in n]
    assert own, f"{package} has no templates"
    for name in own:
        source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
        assert source.startswith('{% extends "core/base.html" %}'), f"{package}/{name} has its own page shell"
        assert env.autoescape is True or env.autoescape(name)
        assert "|safe" not in source.replace(" ", ""), f"{package}/{name} marks a value safe; use core.render.drawn"


def test_no_html_is_built_in_python_outside_core_render() -> None:
    found = [f"{path.relative_to(SRC)}:{n}" for path in sorted(SRC.rglob("*.py"))
             if "core/render" not in path.as_posix()
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if re.search(r"<(html|table|div)\b", line, re.IGNORECASE)]
    assert not found, f"HTML built in Python (use a template through tipsom.core.render): {found}"


def test_web_templates_autoescape() -> None:
    from tipsom.web.context import build_templates

    env = build_templates().env
    names = env.list_templates()
    assert names
    for name in names:
        assert env.autoescape is True or env.autoescape(name), name
    assert env.from_string("{{ v }}").render(v=HOSTILE).startswith("&lt;script&gt;")
