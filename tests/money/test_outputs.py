"""Outputs: FtM for Aleph, GEXF for Gephi, corridors, risk scores, links and the CLI round trip."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.money.corridors import corridors
from tipsom.money.links import CaseLink, IdentifierKind, accounts_to_cases, read_links
from tipsom.money.model import Finding, MoneyInputError, Typology
from tipsom.money.risk import risk_scores
from tipsom.money.scan import scan
from tipsom.synth.transactions import SynthFiles


@pytest.fixture(scope="module")
def findings(synth_tx: pd.DataFrame) -> list[Finding]:
    return scan(synth_tx)


def test_ftm_export_loads_and_every_payment_has_payer_and_beneficiary(
    synth_tx: pd.DataFrame, findings: list[Finding], tmp_path: Path
) -> None:
    from followthemoney import model

    from tipsom.money.export import write_ftm

    sample = synth_tx.head(500)
    out = tmp_path / "money.ftm.jsonl"
    count = write_ftm(sample, out, findings=findings)
    proxies = [model.get_proxy(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(proxies) == count
    ids = {p.id for p in proxies}
    payments = [p for p in proxies if p.schema.name == "Payment"]
    assert len(payments) == len(sample)
    for proxy in proxies:
        missing = [name for name in proxy.schema.required if not proxy.get(name)]
        assert not missing, f"{proxy.schema.name} {proxy.id} lacks {missing}"
    for pay in payments:
        assert pay.get("payer")
        assert pay.get("beneficiary")
        assert set(pay.get("payer")) <= ids
        assert set(pay.get("beneficiary")) <= ids
        assert set(pay.get("payerAccount")) <= ids
    assert {p.schema.name for p in proxies} >= {"Payment", "BankAccount", "Ownership", "LegalEntity"}


def test_gexf_has_nodes_with_risk_and_weighted_edges(synth_tx: pd.DataFrame, tmp_path: Path) -> None:
    from tipsom.money.export import write_gexf

    sample = synth_tx.head(300)
    out = write_gexf(sample, tmp_path / "net.gexf")
    root = ET.parse(out).getroot()
    ns = {"g": root.tag.split("}")[0].strip("{")}
    nodes = root.findall(".//g:node", ns)
    edges = root.findall(".//g:edge", ns)
    assert len(nodes) == len(set(sample["src"]) | set(sample["dst"]))
    assert len(edges) == len(sample.groupby(["src", "dst"]))


def test_corridors_split_flagged_and_case_linked_shares(
    synth: SynthFiles, synth_tx: pd.DataFrame, findings: list[Finding]
) -> None:
    links = accounts_to_cases(read_links(synth.links), set(synth_tx["src"]) | set(synth_tx["dst"]))
    assert links, "the generator links some planted accounts to cases"
    table = corridors(synth_tx, flagged_accounts={f.account for f in findings}, case_accounts=set(links))
    assert table["amount"].sum() == pytest.approx(synth_tx["amount_base"].sum(), abs=0.005 * len(synth_tx))  # cents
    assert table["n_transactions"].sum() == len(synth_tx)
    assert (table["flagged_share"] <= 1).all()
    assert (table["case_share"] <= table["flagged_share"] + 1).all()
    risky = table[table["dst_country"].isin(["MMR", "IRN"])]
    assert not risky.empty
    assert (risky["flagged_share"] == 1.0).all()


def test_risk_scores_combine_typologies_and_case_links(synth_tx: pd.DataFrame, findings: list[Finding]) -> None:
    cycle = next(f for f in findings if f.typology is Typology.CYCLE)
    bystander = next(a for a in synth_tx["src"] if a not in {f.account for f in findings})
    links = {cycle.account: {("CASE-1", "P-1")}, bystander: {("CASE-2", "P-2")}}
    scores = {r.account: r for r in risk_scores(findings, synth_tx, links)}
    assert scores[cycle.account].score > scores[bystander].score > 0
    assert scores[cycle.account].cases == ("CASE-1",)
    neighbour = next(iter(set(synth_tx.loc[synth_tx["src"] == bystander, "dst"]) - {bystander}))
    assert bystander in scores[neighbour].linked_counterparties


def test_phone_links_reach_mobile_money_accounts_and_bad_rows_are_reported(tmp_path: Path) -> None:
    links = [CaseLink(IdentifierKind.PHONE, "+234 803 123 4567", "C9", "P9")]
    assert accounts_to_cases(links, {"+2348031234567", "other"}) == {"+2348031234567": {("C9", "P9")}}
    bad = tmp_path / "links.csv"
    bad.write_text("kind,identifier,case_id,person_id\nemail,x@y,C1,P1\n", encoding="utf-8")
    with pytest.raises(MoneyInputError, match="row 2: kind"):
        read_links(bad)


def test_cli_synth_scan_evaluate_corridors_and_exports(tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "synth"
    assert runner.invoke(app, ["synth", "transactions", "--n", "3000", "--seed", "5", "-o", str(data)]).exit_code == 0
    common = ["--rates", str(data / "rates.csv")]
    findings = tmp_path / "findings.json"
    result = runner.invoke(
        app,
        [
            "money",
            "scan",
            str(data / "transactions_amlworld.csv"),
            "--format",
            "amlworld",
            "-o",
            str(findings),
            *common,
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(findings.read_text(encoding="utf-8"))
    result = runner.invoke(app, ["money", "evaluate", str(findings), str(data / "patterns.txt")])
    assert result.exit_code == 0
    assert "fan_in" in result.output
    linked = ["--links", str(data / "links.csv"), "--findings", str(findings)]
    for command, out, extra in (
        ("corridors", "c.csv", linked),
        ("export-ftm", "m.ftm.jsonl", []),
        ("export-gexf", "m.gexf", linked),
        ("risk", "r.csv", linked),
    ):
        args = ["money", command, str(data / "transactions.csv"), "-o", str(tmp_path / out), *common, *extra]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (command, result.output)
        assert (tmp_path / out).stat().st_size > 0


@pytest.mark.usefixtures("data_key")
def test_links_are_built_from_the_case_registry_with_audited_reads(tmp_path: Path) -> None:
    from tests.registry_helpers import csv_rows, write_cases
    from tipsom.exchange.importer import import_file
    from tipsom.money.links import STORE_PURPOSE
    from tipsom.store import audit
    from tipsom.store.db import Store

    source = write_cases(tmp_path / "cases.csv", 8)
    store = Store.init()
    import_file(store, source, actor="tester")
    store.dispose()
    out = tmp_path / "links.csv"
    every_role = [arg for r in {row["role"] for row in csv_rows(source)} for arg in ("--role", r)]
    result = CliRunner().invoke(app, ["money", "links", "-o", str(out), "--include-personal",
                                      "--purpose", STORE_PURPOSE, *every_role])
    assert result.exit_code == 0, result.output
    expected = {(r["phone"], r["case_id"], r["person_id"]) for r in csv_rows(source) if r["phone"]}
    links = read_links(out)
    assert expected
    assert {(link.identifier, link.case_id, link.person_id) for link in links} == expected
    assert {link.kind for link in links} == {IdentifierKind.PHONE}
    store = Store.init()
    with store.begin() as conn:
        reads = audit.events(conn, action=audit.AuditAction.READ)
    store.dispose()
    # one read for the whole table, naming the one field decrypted and how many rows
    linked = [r for r in reads if r["purpose"] == STORE_PURPOSE]
    assert len(linked) == 1
    assert json.loads(linked[0]["detail"])["rows"] == len(expected)
