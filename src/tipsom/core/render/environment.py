"""The Jinja environment every HTML report is rendered through, and its shared filters.

Loader: each module passes its own package name (``"tipsom.osint"``), and
templates are looked up first in that package's ``templates/`` folder, then
under the ``core/`` prefix for the shared ones (``core/base.html``). A
package name rather than a registry of modules keeps ``core`` below the
analyses: it never has to know which modules exist, and a module's
template names cannot collide with another module's.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cache
from typing import Any

from babel.numbers import format_decimal
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

#: Languages written right to left, among those tipsom's pages are written in.
RIGHT_TO_LEFT = frozenset({"ar"})


def direction(lang: str) -> str:
    """``rtl`` or ``ltr``: the ``dir`` attribute for a page or block in ``lang``."""
    return "rtl" if lang.split("-", maxsplit=1)[0].lower() in RIGHT_TO_LEFT else "ltr"


def number(value: float | int | None, digits: int = 0, lang: str = "en", infinite: str = "∞") -> str:
    """``value`` grouped and rounded as readers of ``lang`` write numbers (CLDR, through Babel).

    A missing or not-a-number value prints as nothing, so an empty cell stays
    empty; an infinite one as ``infinite`` (an unbounded interval is a finding,
    not an error).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and math.isinf(value):
        return infinite if value > 0 else f"-{infinite}"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return str(format_decimal(value, format=pattern, locale=lang))


def drawn(svg: str) -> Markup:
    """An SVG chart tipsom drew itself, to be inserted as markup and not escaped.

    The one exception to autoescaping, kept to one name so a reviewer can find
    every use: matplotlib's SVG writer escapes the titles and labels it writes,
    so a hostile label arrives here as text, never as markup.
    """
    return Markup(svg)


def timestamp(moment: dt.datetime | None = None) -> str:
    """``moment`` (now by default) in UTC to the minute, as every report prints its creation time."""
    moment = moment or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@cache
def environment(package: str) -> Environment:
    """The environment for ``package``'s templates (cached: templates compile once per process)."""
    env = Environment(
        loader=ChoiceLoader([PackageLoader(package, "templates"),
                             PrefixLoader({"core": PackageLoader("tipsom.core.render", "templates")})]),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=False,
    )
    env.filters["number"] = number
    env.filters["direction"] = direction
    env.filters["timestamp"] = timestamp
    return env


def render(package: str, template: str, /, **context: Any) -> str:
    """``template`` of ``package`` rendered with ``context``; ``lang`` defaults to English."""
    context.setdefault("lang", "en")
    return environment(package).get_template(template).render(**context)
