"""Screening commands: ``tipsom screen case|all|questionnaire`` and ``tipsom law``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from tipsom.cli.common import DbOption, JsonOption, QuietOption, deprecated, fail, open_store, progress_bar
from tipsom.core.errors import ExitCode, InputError

law_app = typer.Typer(help="Legislative review and monitoring of non-punishment in practice.",
                      no_args_is_help=True)


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _print_result(result: Any) -> None:
    """Human-readable alerts: one block per alert, most severe first."""
    print(f"case {result.case_id} ({result.jurisdiction or 'no jurisdiction'}); rules {result.ruleset}")
    if not result.alerts:
        print("no alerts")
    for a in result.alerts:
        print(f"\n[{a.severity.value.upper()}] {a.code.value}  person {a.person_id}")
        print(f"  {a.explanation}")
        for line in a.because:
            print(f"  because: {line}")
        for m in a.missing:
            print(f"  ask ({m.element}): {m.ask}")
        for s in a.sources:
            print(f"  source: {s}")


def _read_object(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from ``path``; undecodable, malformed or too deep input is an :class:`InputError`."""
    from tipsom.core.textinput import parse_json

    raw = parse_json(path.read_bytes(), file=path)
    if not isinstance(raw, dict):
        raise InputError(f"must hold {what} as a JSON object", file=path)
    return raw


class ScreenGroup(TyperGroup):
    """``tipsom screen``: its subcommands, and the one-command form of earlier releases.

    ``tipsom screen FILE``, ``--case ID``, ``--all``, ``--questionnaire`` and
    ``--answers FILE`` were five modes of one command; they are subcommands
    now, and an old invocation is run as the subcommand it meant, with a
    one-line deprecation note, so scripts keep working.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer vendors click: Context is private
        if not args:
            fail(f"give exactly one of: {', '.join(f'screen {name}' for name in self.commands)}", ExitCode.USAGE)
        if args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = _subcommand_meant(args)
        return list(super().parse_args(ctx, args))


#: The subcommand each mode flag of the old one-command ``tipsom screen`` stands for; no flag meant ``case``.
OLD_MODES = {"--all": "all", "--questionnaire": "questionnaire", "--answers": "questionnaire"}


def _subcommand_meant(args: list[str]) -> list[str]:
    """An old ``tipsom screen`` invocation as the subcommand it meant (``--answers`` stays an option)."""
    for flag, command in OLD_MODES.items():
        if flag in args:
            deprecated(f"tipsom screen {flag}", f"tipsom screen {command}")
            return [command, *(a for a in args if a != flag or flag == "--answers")]
    deprecated("tipsom screen FILE|--case ID", "tipsom screen case FILE|--case ID")
    return ["case", *args]


screen_app = typer.Typer(cls=ScreenGroup, help="Screen cases against the legal rules and the ILO indicators.")
JurisdictionOption = Annotated[str | None, typer.Option("--jurisdiction", help="ISO 3166-1 alpha-3 code whose "
                                                        "rules apply (default: the case's own).")]
ChildOption = Annotated[bool, typer.Option("--child", help="Use the ILO/EC list for children.")]


@screen_app.command("case")
def screen_case_command(
    file: Annotated[Path | None, typer.Argument(help="One case in the native JSON format.")] = None,
    case: Annotated[str | None, typer.Option("--case", help="Screen the stored case with this ID instead.")] = None,
    jurisdiction: JurisdictionOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Screen one case (a file, or a stored case): alerts with explanations and sources."""
    from tipsom.screening import InvalidDocument, screen_document, screen_stored_case

    if (file is None) == (case is None):
        fail("give exactly one of FILE or --case ID", ExitCode.USAGE)
    if file is not None:
        try:
            result = screen_document(_read_object(file, "one case (the native document format)"), jurisdiction)
        except InvalidDocument as exc:
            if len(exc.problems) == 1:
                fail(exc.problems[0].render(str(file)))
            for p in exc.problems:
                print(p.render(str(file)), file=sys.stderr)
            fail(f"{file}: not a valid case document ({len(exc.problems)} problem(s))")
        except InputError as exc:
            raise InputError(exc.reason, file=file, row=exc.row, field=exc.field) from None
    else:
        assert case is not None
        try:
            result = screen_stored_case(open_store(db), case, jurisdiction)
        except LookupError as exc:
            fail(str(exc))
    if as_json:
        out = result.to_dict()
        _print_json({"alerts": out["alerts"], "indicators": out["indicators"], "case_id": out["case_id"],
                     "jurisdiction": out["jurisdiction"], "ruleset": out["ruleset"]})
    else:
        _print_result(result)


@screen_app.command("all")
def screen_all_command(as_json: JsonOption = False, db: DbOption = None, quiet: QuietOption = False) -> None:
    """Screen every stored case in one pass: alert counts by code."""
    from tipsom.screening import screen_store

    store = open_store(db)
    with progress_bar(quiet, "persons screened") as tick:
        data = screen_store(store, progress=tick).to_dict()
    if as_json:
        _print_json(data)
        return
    print(f"screened {data['screened']} cases ({data['persons']} persons)")
    for code, n in data["alerts"].items():
        print(f"  {code:28} {n}")


@screen_app.command("questionnaire")
def screen_questionnaire_command(
    answers: Annotated[Path | None, typer.Option("--answers", help="Assess a filled questionnaire "
                                                 "(JSON: question id -> true/false).")] = None,
    child: ChildOption = False,
) -> None:
    """Print the blank indicator questionnaire (ILO 11 and ILO/EC), or assess a filled one (JSON)."""
    from tipsom.screening.indicators import IndicatorError, assess_questionnaire, questionnaire

    if answers is None:
        _print_json(questionnaire(child=child))
        return
    try:
        _print_json(assess_questionnaire(_read_object(answers, "answers mapping question ids to true/false"),
                                         child=child))
    except IndicatorError as exc:
        fail(f"{answers}: {exc}")


@law_app.command("checklist")
def law_checklist(
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write the review template here "
                                             "(YAML; .json for JSON).")] = None,
) -> None:
    """Print (or write) the legislative review template to fill in for a country's law."""
    import yaml

    from tipsom.screening.legislation import blank_review

    template = blank_review()
    text = (json.dumps(template, indent=2) if out is not None and out.suffix.lower() == ".json"
            else yaml.safe_dump(template, sort_keys=False, allow_unicode=True))
    if out is None:
        print(text, end="")
    else:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")


@law_app.command("report")
def law_report(
    file: Annotated[Path, typer.Argument(help="A filled review (YAML or JSON).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Report file: .html or .pdf.")],
) -> None:
    """Write the gap report (HTML or PDF) for a filled legislative review."""
    from tipsom.screening.legislation import ReviewError, read_review, write_gap_report

    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        fail(f"{out}: the report must end in .html or .pdf", ExitCode.USAGE)
    try:
        review = read_review(file)
    except ReviewError as exc:
        fail(str(exc))
    write_gap_report(review, out)
    print(f"wrote {out}: {len(review.gaps)} gap(s) of {len(review.findings)} items")


@law_app.command("monitoring")
def law_monitoring(
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Figures per jurisdiction and year: victims charged, migrants prosecuted, children recorded as adults."""
    from tipsom.screening.monitoring import monitoring_table

    rows = monitoring_table(open_store(db))
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        offence = f" [{r['offence']}]" if r["offence"] else ""
        print(f"{r['jurisdiction'] or '-':4} {r['year'] or '-':>5}  {r['label']}{offence}: {r['count']}")


def register(root: typer.Typer) -> None:
    """Add the ``tipsom screen`` and ``tipsom law`` groups."""
    root.add_typer(screen_app, name="screen")
    root.add_typer(law_app, name="law")
