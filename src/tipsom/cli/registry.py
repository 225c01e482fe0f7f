"""Registry commands: init, import, export, synth cases, stats, demo."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from tipsom.cli.common import DbOption, JsonOption, OnErrorOption, QuietOption, fail, open_store, progress_bar
from tipsom.cli.groups import export_app, import_app, synth_app
from tipsom.core.errors import ExitCode
from tipsom.core.vocab import Language, OnError
from tipsom.exchange.formats import Direction, case_format, help_text
from tipsom.schema.document import Problem
from tipsom.schema.enums import ConsentPurpose


def init(db: DbOption = None) -> None:
    """Create the database tables and the data key (mode 0600), never a second key for a store that has one."""
    from tipsom.settings import get_settings
    from tipsom.store.keys import provide_data_key

    settings = get_settings()
    store = open_store(db, verify_key=False, upgrade=True)  # the key may not exist yet: init makes it
    key, created = provide_data_key(store.engine, settings)
    if created:
        print(f"created data key {settings.key_path} (back it up: without it personal data cannot be read)")
    print(f"data key {key.id} from {key.origin}")
    print(f"database ready: {store.engine.url.render_as_string(hide_password=True)}")


def import_cases(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX or JSONL file.")],
    fmt: Annotated[str, typer.Option("--format", help=help_text(Direction.IMPORT))] = "native",
    on_error: OnErrorOption = OnError.FAIL,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", hidden=True,
                                               help="Old spelling of --on-error skip.")] = False,
    rejects: Annotated[Path | None, typer.Option("--rejects", help="Rejects file (default FILE.rejects).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing rejects file.")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Let the file remove stored persons, route legs, "
                                          "identifications and charges of its cases.")] = False,
    purpose: Annotated[str, typer.Option("--purpose", help="Why, for the audit log.")] = "data import",
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Import cases from FILE, all or nothing unless --on-error skip (refused records then go to a rejects file)."""
    from tipsom.exchange.importer import ImportFailed, import_file
    from tipsom.settings import get_settings

    kind = case_format(fmt, Direction.IMPORT)
    skip = skip_invalid or on_error is OnError.SKIP
    store = open_store(db)
    printed = 0

    def show(problem: Problem) -> None:
        nonlocal printed
        printed += 1
        print(problem.render(str(file)), file=sys.stderr)

    try:
        with progress_bar(quiet, "importing") as tick:
            report = import_file(store, file, fmt=kind, skip_invalid=skip, rejects_path=rejects,
                                 force=force, replace=replace, actor=get_settings().actor, purpose=purpose,
                                 on_problem=show, progress=tick)
    except ImportFailed as exc:
        if printed == 0:
            for p in exc.report.problems:
                print(p.render(str(file)), file=sys.stderr)
        fail(str(exc))
    print(json.dumps(report.as_dict(), indent=2))
    if report.rejected:
        print(f"{report.rejected} record(s) rejected; see {report.rejects_file}", file=sys.stderr)


def export_cases(
    out: Annotated[Path, typer.Option("-o", "--out", help="Output file.")],
    fmt: Annotated[str, typer.Option("--format", help=help_text(Direction.EXPORT))] = "native",
    include_personal: Annotated[bool, typer.Option("--include-personal", help="Decrypt names, phones, "
                                                   "dates of birth into the file.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    purpose: Annotated[str, typer.Option("--purpose", help="Why, for the audit log.")] = "export",
    consent_purpose: Annotated[ConsentPurpose, typer.Option(
        "--consent-purpose", help="With --include-personal: the consented purpose the file serves; persons "
        "whose consent does not cover it are left out, and counted on stderr.")] = ConsentPurpose.DATA_SHARING,
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Export every case (without personal data unless --include-personal)."""
    from tipsom.exchange.export import export_cases as run_export
    from tipsom.schema.consent import ConsentTally
    from tipsom.settings import get_settings

    format_ = case_format(fmt, Direction.EXPORT)
    store = open_store(db)
    consent = ConsentTally(consent_purpose)
    with progress_bar(quiet, "exporting") as tick:
        n = run_export(store, out, fmt=format_, include_personal=include_personal, actor=get_settings().actor,
                       purpose=purpose, progress=tick, force=force, consent=consent)
    print(f"exported {n} cases to {out}")
    if include_personal and consent.total:
        print(consent.describe(), file=sys.stderr)


def export_xlsform(
    out: Annotated[Path, typer.Option("-o", "--out", help="Output .xlsx file.")],
    lang: Annotated[list[Language] | None, typer.Option("--label-lang", help="A language of the labels (repeat it; "
                                                        "the first is the form's default). Default: all four.")] = None,
    org: Annotated[str | None, typer.Option("--org", help="Pre-fill the reporting organisation.")] = None,
    public_key: Annotated[Path | None, typer.Option("--public-key", help="RSA public key (PEM): submissions are "
                                                    "encrypted on the device.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
) -> None:
    """Write an XLSForm of the case standard for offline collection with ODK Collect or KoboCollect."""
    from tipsom.cli.formlabels import catalog_labels
    from tipsom.exchange.xlsform import encryption_key, write_xlsform

    languages = [catalog_labels(language) for language in dict.fromkeys(lang or list(Language))]
    key = encryption_key(public_key.read_bytes(), public_key) if public_key else None
    summary = write_xlsform(out, languages=languages, org=org, public_key=key, force=force)
    print(f"wrote {out}: form {summary.version}, {summary.questions} questions in {', '.join(summary.languages)}"
          + ("; submissions encrypted on the device" if key else ""))


def synth_cases(
    n: Annotated[int, typer.Option("--n", min=1, help="Number of cases.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same cases.")] = 1,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output .csv, .xlsx or .jsonl.")] = Path("cases.csv"),
    quiet: QuietOption = False,
) -> None:
    """Write N seeded synthetic cases (no real person) to a file."""
    from tipsom.exchange.native import DocumentSink
    from tipsom.synth.cases import CaseGenerator

    try:
        sink = DocumentSink(out)
    except ValueError as exc:
        fail(str(exc), ExitCode.USAGE)
    with progress_bar(quiet, "generating") as tick, sink:
        for doc in CaseGenerator(seed).cases(n):
            sink.write(doc)
            if sink.count % 1000 == 0:
                tick(sink.count)
    print(f"wrote {n} synthetic cases to {out}")


def stats(
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Counts of cases, persons and victims in the store."""
    counts = open_store(db, verify_key=False).counts()  # counting reads no personal value
    if as_json:
        print(json.dumps(counts))
    else:
        for k, v in counts.items():
            print(f"{k}: {v:,}")


def demo(
    n: Annotated[int, typer.Option("--n", min=1, help="Number of synthetic cases.")] = 3000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing if the store has cases.")] = False,
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Fill the store with synthetic demo cases."""
    from tipsom.synth.demo import load_demo
    from tipsom.web.accounts import ensure_demo_accounts
    from tipsom.web.organisations import register_reporting_organisations

    store = open_store(db)
    if if_empty and store.counts()["cases"] > 0:
        print("store already has cases; demo data not added")
    else:
        with progress_bar(quiet, "loading demo") as tick:
            report = load_demo(store, n=n, seed=seed, progress=tick)
        # so the demo's organisations can hold accounts and receive shares, as real ones must
        register_reporting_organisations(store, actor="demo")
        print(f"demo: {report.written.cases_created} synthetic cases loaded")
    for username, password, role in ensure_demo_accounts(store):
        print(f"demo login: {username} / {password} ({role})")


schema_app = typer.Typer(help="The tipsom data standard.", no_args_is_help=True)


@schema_app.command("dictionary")
def schema_dictionary(
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write here instead of stdout.")] = None,
) -> None:
    """Print (or write) the data dictionary generated from the schema YAML."""
    from tipsom.schema.dictionary import render_dictionary

    text = render_dictionary()
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


def register(root: typer.Typer) -> None:
    root.add_typer(schema_app, name="schema")
    root.command("init")(init)
    root.command("stats")(stats)
    root.command("demo")(demo)
    import_app.command("cases")(import_cases)
    export_app.command("cases")(export_cases)
    export_app.command("xlsform")(export_xlsform)
    synth_app.command("cases")(synth_cases)
