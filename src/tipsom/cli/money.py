"""Commands of the money module: scan, trace, corridors, risk, exports, evaluation, synthesis."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tipsom.cli.common import DbOption, EngineOption, OnErrorOption, QuietOption, check_output_path, open_store
from tipsom.cli.groups import synth_app
from tipsom.core.cells import neutral_frame
from tipsom.core.vocab import Engine, OnError
from tipsom.money.model import Attribution, Direction, InputFormat, Period

if TYPE_CHECKING:
    import pandas as pd

    from tipsom.money.holders import ResolvedHolder
    from tipsom.money.model import Finding

money_app = typer.Typer(help="Follow the money: typologies, tracing, corridors, exports.", no_args_is_help=True)

FormatOption = Annotated[InputFormat, typer.Option("--format", "-f", help="Input format.")]
RatesOption = Annotated[Path | None, typer.Option("--rates", help="CSV currency,rate (base currency has rate 1).")]
LinksOption = Annotated[Path | None, typer.Option("--links", help="CSV kind,identifier,case_id,person_id.")]
HoldersOption = Annotated[Path | None, typer.Option("--holders", help="CSV account,name[,kind,phone,id_number,...].")]
FindingsOption = Annotated[Path | None, typer.Option("--findings", help="Findings written by `money scan`.")]


def _load(file: Path, fmt: InputFormat, rates: Path | None, on_error: OnError) -> pd.DataFrame:
    from tipsom.money.readers import Rates, load_transactions

    result = load_transactions(file, fmt, Rates.load(rates) if rates else None, on_error)
    for error in result.errors:
        print(f"skipped {error}", file=sys.stderr)
    return result.transactions


def _holders(file: Path, fmt: InputFormat, holders: Path | None) -> list[ResolvedHolder]:
    from tipsom.money.goaml import parse_goaml
    from tipsom.money.holders import read_holders, resolve_holders

    records = parse_goaml(file)[1] if fmt is InputFormat.GOAML else []
    return resolve_holders(records + (read_holders(holders) if holders else []))


def _findings(path: Path | None) -> list[Finding]:
    from tipsom.money.scan import read_findings

    return read_findings(path) if path else []


def _case_links(links: Path | None, tx: pd.DataFrame, holders: list[ResolvedHolder]) -> dict[str, set[tuple[str, str]]]:
    from tipsom.money.links import accounts_to_cases, read_links

    if not links:
        return {}
    return accounts_to_cases(read_links(links), set(tx["src"]) | set(tx["dst"]), tuple(holders))


@money_app.command("scan")
def scan_cmd(
    file: Path,
    *,
    fmt: FormatOption = InputFormat.NATIVE,
    out: Annotated[Path, typer.Option("--out", "-o", help="Findings file (.csv, or .json).")] = Path("findings.csv"),
    engine: EngineOption = Engine.DUCKDB,
    rates: RatesOption = None,
    on_error: OnErrorOption = OnError.FAIL,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML/JSON thresholds (ScanConfig field names).")
    ] = None,
    high_risk: Annotated[
        Path | None,
        typer.Option(
            "--high-risk",
            help="Extra high-risk countries/corridors CSV (src_country,dst_country,channel; empty = any).",
        ),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Detect laundering typologies; one row per (account, typology) with score and transaction ids."""
    from tipsom.money.config import ScanConfig, read_config, read_corridors
    from tipsom.money.scan import scan, write_findings_csv, write_findings_json

    check_output_path(out)
    tx = _load(file, fmt, rates, on_error)
    cfg = read_config(config) if config else ScanConfig()
    cfg = read_corridors(high_risk, cfg) if high_risk else cfg
    findings = scan(tx, cfg, engine)
    (write_findings_json if out.suffix.lower() == ".json" else write_findings_csv)(findings, out)
    if not quiet:
        print(f"{len(findings)} findings on {len(tx)} transactions written to {out}")


@money_app.command("trace")
def trace_cmd(
    account: str,
    *,
    file: Annotated[Path, typer.Option("--in", help="Transaction file.")],
    fmt: FormatOption = InputFormat.NATIVE,
    direction: Direction = Direction.FORWARD,
    hops: Annotated[int, typer.Option(min=1, max=12)] = 3,
    window: Annotated[float, typer.Option(help="Hours allowed between consecutive hops.")] = 72.0,
    attribution: Attribution = Attribution.FIFO,
    rates: RatesOption = None,
    on_error: OnErrorOption = OnError.FAIL,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write hops as CSV.")] = None,
) -> None:
    """Follow money forward (where did it go?) or backward (where did it come from?)."""
    from tipsom.money.trace import paths_frame, trace

    if out:
        check_output_path(out)
    tx = _load(file, fmt, rates, on_error)
    result = trace(tx, account, direction=direction, hops=hops, window_hours=window, attribution=attribution)
    for number, path in enumerate(result.paths, start=1):
        print(f"path {number}: {' -> '.join(path.accounts)}  traced {path.amount:,.2f}")
    if out:
        neutral_frame(paths_frame(result)).to_csv(out, index=False)


@money_app.command("corridors")
def corridors_cmd(
    file: Path,
    *,
    out: Annotated[Path, typer.Option("--out", "-o")] = Path("corridors.csv"),
    fmt: FormatOption = InputFormat.NATIVE,
    findings: FindingsOption = None,
    links: LinksOption = None,
    period: Period = Period.MONTH,
    engine: EngineOption = Engine.DUCKDB,
    rates: RatesOption = None,
    on_error: OnErrorOption = OnError.FAIL,
) -> None:
    """Flows by country pair, channel and period, with shares tied to flagged and case-linked accounts."""
    from tipsom.money.corridors import corridors

    check_output_path(out)
    tx = _load(file, fmt, rates, on_error)
    flagged = {f.account for f in _findings(findings)}
    case = set(_case_links(links, tx, []))
    table = corridors(tx, flagged_accounts=flagged, case_accounts=case, period=period, engine=engine)
    neutral_frame(table).to_csv(out, index=False)
    print(f"corridors written to {out}")


@money_app.command("risk")
def risk_cmd(
    file: Path,
    *,
    out: Annotated[Path, typer.Option("--out", "-o")] = Path("risk.csv"),
    fmt: FormatOption = InputFormat.NATIVE,
    findings: FindingsOption = None,
    links: LinksOption = None,
    holders: HoldersOption = None,
    rates: RatesOption = None,
    on_error: OnErrorOption = OnError.FAIL,
) -> None:
    """Account risk scores from findings and links to persons on cases."""
    from tipsom.money.risk import risk_frame, risk_scores

    check_output_path(out)
    tx = _load(file, fmt, rates, on_error)
    resolved = _holders(file, fmt, holders)
    scores = risk_scores(_findings(findings), tx, _case_links(links, tx, resolved))
    neutral_frame(risk_frame(scores)).to_csv(out, index=False)
    print(f"risk scores written to {out}")


@money_app.command("export-ftm")
def export_ftm_cmd(
    file: Path,
    *,
    out: Annotated[Path, typer.Option("--out", "-o")] = Path("money.ftm.jsonl"),
    fmt: FormatOption = InputFormat.NATIVE,
    findings: FindingsOption = None,
    holders: HoldersOption = None,
    rates: RatesOption = None,
    on_error: OnErrorOption = OnError.FAIL,
) -> None:
    """FollowTheMoney JSON lines (accounts, holders, ownership, payments) for Aleph."""
    from tipsom.money.export import write_ftm

    check_output_path(out)
    tx = _load(file, fmt, rates, on_error)
    count = write_ftm(tx, out, _holders(file, fmt, holders), _findings(findings))
    print(f"{count} entities written to {out}")


@money_app.command("export-gexf")
def export_gexf_cmd(
    file: Path,
    *,
    out: Annotated[Path, typer.Option("--out", "-o")] = Path("money.gexf"),
    fmt: FormatOption = InputFormat.NATIVE,
    findings: FindingsOption = None,
    links: LinksOption = None,
    rates: RatesOption = None,
    on_error: OnErrorOption = OnError.FAIL,
) -> None:
    """The payment network as GEXF for Gephi, with risk scores on the nodes."""
    from tipsom.money.export import write_gexf
    from tipsom.money.risk import risk_scores

    check_output_path(out)
    tx = _load(file, fmt, rates, on_error)
    write_gexf(tx, out, risk_scores(_findings(findings), tx, _case_links(links, tx, [])))
    print(f"network written to {out}")


@money_app.command("links")
def links_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Links CSV for --links.")] = Path("links.csv"),
    role: Annotated[list[str] | None, typer.Option(
        "--role", help="Take phones of persons with this role (repeatable; default Suspect).")] = None,
    include_personal: Annotated[bool, typer.Option(
        "--include-personal", help="Write the phone numbers themselves, not keyed pseudonyms (needs --purpose).")
    ] = False,
    purpose: Annotated[str | None, typer.Option(help="Why the phone numbers are needed (audited).")] = None,
    db: DbOption = None,
) -> None:
    """Build the links table (phone -> case, person) from the case registry; one audited read.

    Suspects' phones by default, as keyed pseudonyms that `--links` matches
    against transactions with the same data key; numbers only with
    `--include-personal --purpose`.
    """
    from tipsom.core.errors import ConfigError
    from tipsom.money.links import FOLLOWED_ROLES, links_from_store, write_links
    from tipsom.schema.enums import PersonRole
    from tipsom.settings import get_settings

    try:
        roles = frozenset(PersonRole(r) for r in role) if role else FOLLOWED_ROLES
    except ValueError:
        raise ConfigError(f"--role: one of {', '.join(PersonRole)}") from None
    if include_personal and not (purpose or "").strip():
        raise ConfigError("--include-personal needs --purpose: say why the phone numbers themselves are needed")
    if purpose and not include_personal:
        raise ConfigError("--purpose is for --include-personal; pseudonymous links are audited with their own")
    store = open_store(db)
    try:
        links = links_from_store(store, actor=get_settings().actor, roles=roles,
                                 purpose=purpose if include_personal else None)
    finally:
        store.dispose()
    write_links(links, out)
    kind = "phone numbers" if include_personal else "phone pseudonyms"
    print(f"{len(links)} links ({kind} of {', '.join(sorted(roles))}) written to {out}")


@money_app.command("evaluate")
def evaluate_cmd(findings: Path, truth: Path) -> None:
    """Precision and recall per typology at transaction and account level."""
    from tipsom.money.evaluate import evaluate, format_scores, read_truth
    from tipsom.money.scan import read_findings

    print(format_scores(evaluate(read_findings(findings), read_truth(truth))))


@synth_app.command("transactions")
def synth_transactions_cmd(
    n: Annotated[int, typer.Option("--n", min=1000, help="Number of transactions.")] = 100_000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("synth-transactions"),
) -> None:
    """Seeded transactions with every typology planted, as AMLworld and native CSV plus a truth file."""
    from tipsom.synth.transactions import generate_transactions

    files = generate_transactions(n, seed, out)
    print(f"wrote {files.amlworld}, {files.native}, {files.truth}, {files.rates}, {files.links}")


def register(root: typer.Typer) -> None:
    """Add ``tipsom money ...`` and ``tipsom synth transactions``."""
    root.add_typer(money_app, name="money")
