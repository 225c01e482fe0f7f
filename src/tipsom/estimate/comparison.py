"""One page comparing the four estimators side by side, in English, French, Arabic and Russian.

Analysts who estimate hidden victims report how the number moves with the
method, because no single model is known to be right: stepwise log-linear
selection (SparseMSE), the best model by BIC, the latent-class model (LCMCR)
and model averaging over decomposable graphs (dga) make different assumptions
about why lists overlap. This page puts them in one table with their
intervals and says in words how far apart they are, for ministries that read
French, Arabic or Russian as well as English.

The French, Arabic and Russian texts were written for tipsom without a
professional translator and **need review by a native speaker** before an
official publication; the page says so in each language.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tipsom.core import vocab
from tipsom.core.errors import InputError
from tipsom.core.render import html_to_pdf, render
from tipsom.estimate.intervals import Interval
from tipsom.estimate.table import CaptureTable

if TYPE_CHECKING:
    from tipsom.estimate.lcmcr import SamplerSettings


#: The languages of the comparison page: those of the web application.
Language = vocab.Language


class Spread(enum.Enum):
    """How far apart the methods' point estimates are (largest over smallest)."""

    CLOSE = "close"  # within 25%
    MODERATE = "moderate"  # up to a factor of 2
    WIDE = "wide"  # more than a factor of 2


#: Largest-over-smallest ratios that separate the :class:`Spread` categories.
CLOSE_RATIO = 1.25
MODERATE_RATIO = 2.0


class Method(enum.Enum):
    STEPWISE = "stepwise"
    BIC = "bic"
    LCMCR = "lcmcr"
    DGA = "dga"


@dataclass(frozen=True)
class Row:
    """One method's estimate; ``missing`` says why there is none (e.g. too many lists for the method)."""

    method: Method
    estimate: float = math.nan
    low: float = math.nan
    high: float = math.nan
    missing: str = ""


TEXT: dict[Language, dict[str, str]] = {
    Language.EN: {
        "title": "Estimated number of victims: four methods compared",
        "observed": "Victims known to at least one of the {lists} lists: {observed}.",
        "method": "method", "estimate": "estimate", "interval": "95% interval", "assumes": "what it assumes",
        Method.STEPWISE.value: "Stepwise log-linear model (SparseMSE)",
        Method.BIC.value: "Best log-linear model by BIC",
        Method.LCMCR.value: "Latent classes (LCMCR, Bayesian)",
        Method.DGA.value: "Average over graphical models (dga, Bayesian)",
        "a_stepwise": "chosen pairs of lists depend on each other (referrals); everyone equally easy to find",
        "a_bic": "as stepwise, with the model chosen by an information criterion",
        "a_lcmcr": "groups of victims harder or easier for every agency to find; no referrals",
        "a_dga": "every pattern of dependence between lists, weighted by how well it fits",
        "none": "no estimate", "to": "to",
        Spread.CLOSE.value: "The four methods agree: their estimates are within 25% of each other "
                            "({low} to {high}). The figure is robust to the choice of method.",
        Spread.MODERATE.value: "The methods differ moderately: from {low} to {high}. Report the range, "
                               "not one number, and say which assumption each figure rests on.",
        Spread.WIDE.value: "The methods disagree strongly: from {low} to {high}, more than a factor of two. "
                           "The data cannot tell these assumptions apart; publish the range and explain it.",
        "review": "",
    },
    Language.FR: {
        "title": "Nombre estimé de victimes : quatre méthodes comparées",
        "observed": "Victimes connues d'au moins une des {lists} listes : {observed}.",
        "method": "méthode", "estimate": "estimation", "interval": "intervalle à 95 %",
        "assumes": "hypothèse",
        Method.STEPWISE.value: "Modèle log-linéaire pas à pas (SparseMSE)",
        Method.BIC.value: "Meilleur modèle log-linéaire selon le BIC",
        Method.LCMCR.value: "Classes latentes (LCMCR, bayésien)",
        Method.DGA.value: "Moyenne sur les modèles graphiques (dga, bayésien)",
        "a_stepwise": "certaines paires de listes dépendent l'une de l'autre (orientations) ; chaque victime "
                      "a la même chance d'être repérée",
        "a_bic": "comme pas à pas, le modèle étant choisi par un critère d'information",
        "a_lcmcr": "des groupes de victimes plus ou moins faciles à repérer pour tous les services ; "
                   "pas d'orientations",
        "a_dga": "toutes les structures de dépendance entre listes, pondérées selon leur ajustement",
        "none": "pas d'estimation", "to": "à",
        Spread.CLOSE.value: "Les quatre méthodes concordent : leurs estimations sont à moins de 25 % les unes "
                            "des autres ({low} à {high}). Le chiffre ne dépend pas du choix de la méthode.",
        Spread.MODERATE.value: "Les méthodes divergent modérément : de {low} à {high}. Publiez la fourchette "
                               "plutôt qu'un seul chiffre, en précisant l'hypothèse de chacun.",
        Spread.WIDE.value: "Les méthodes divergent fortement : de {low} à {high}, plus du simple au double. "
                           "Les données ne permettent pas de départager ces hypothèses ; publiez la "
                           "fourchette et expliquez-la.",
        "review": "Texte traduit pour tipsom sans traducteur professionnel : à faire relire par un "
                  "locuteur natif avant toute publication officielle.",
    },
    Language.AR: {
        "title": "العدد التقديري للضحايا: مقارنة بين أربع طرق",
        "observed": "الضحايا المعروفون لدى قائمة واحدة على الأقل من القوائم الـ{lists}: {observed}.",
        "method": "الطريقة", "estimate": "التقدير", "interval": "فترة 95٪", "assumes": "الافتراض",
        Method.STEPWISE.value: "نموذج لوغاريتمي خطي تدريجي (SparseMSE)",
        Method.BIC.value: "أفضل نموذج لوغاريتمي خطي وفق معيار BIC",
        Method.LCMCR.value: "الفئات الكامنة (LCMCR، بايزي)",
        Method.DGA.value: "متوسط النماذج البيانية (dga، بايزي)",
        "a_stepwise": "بعض أزواج القوائم مترابطة (الإحالات)؛ لكل ضحية الفرصة نفسها في التعرف عليها",
        "a_bic": "كالطريقة التدريجية، مع اختيار النموذج بمعيار المعلومات",
        "a_lcmcr": "فئات من الضحايا يصعب أو يسهل على جميع الجهات التعرف عليها؛ لا إحالات",
        "a_dga": "جميع أنماط الترابط بين القوائم، مرجحة بمدى ملاءمتها للبيانات",
        "none": "لا يوجد تقدير", "to": "إلى",
        Spread.CLOSE.value: "الطرق الأربع متفقة: تقديراتها ضمن 25٪ من بعضها ({low} إلى {high}). "
                            "الرقم لا يتأثر باختيار الطريقة.",
        Spread.MODERATE.value: "تختلف الطرق اختلافاً معتدلاً: من {low} إلى {high}. انشروا النطاق لا رقماً واحداً، "
                               "مع بيان الافتراض الذي يقوم عليه كل رقم.",
        Spread.WIDE.value: "تختلف الطرق اختلافاً كبيراً: من {low} إلى {high}، أي أكثر من الضعف. لا تستطيع البيانات "
                           "الترجيح بين هذه الافتراضات؛ انشروا النطاق واشرحوه.",
        "review": "نص مترجم لأداة tipsom دون مترجم محترف: يجب أن يراجعه متحدث أصلي قبل أي نشر رسمي.",
    },
    Language.RU: {
        "title": "Оценка числа жертв: сравнение четырёх методов",
        "observed": "Жертвы, известные хотя бы одному из {lists} списков: {observed}.",
        "method": "метод", "estimate": "оценка", "interval": "95% интервал", "assumes": "предположение",
        Method.STEPWISE.value: "Пошаговая лог-линейная модель (SparseMSE)",
        Method.BIC.value: "Лучшая лог-линейная модель по BIC",
        Method.LCMCR.value: "Латентные классы (LCMCR, байесовский)",
        Method.DGA.value: "Усреднение по графическим моделям (dga, байесовский)",
        "a_stepwise": "отдельные пары списков зависимы (направления); всех жертв одинаково легко выявить",
        "a_bic": "как пошаговая, но модель выбрана по информационному критерию",
        "a_lcmcr": "группы жертв, которых всем ведомствам труднее или легче выявить; без направлений",
        "a_dga": "все схемы зависимости между списками, взвешенные по согласию с данными",
        "none": "нет оценки", "to": "до",
        Spread.CLOSE.value: "Четыре метода согласуются: оценки отличаются не более чем на 25% ({low} до {high}). "
                            "Результат устойчив к выбору метода.",
        Spread.MODERATE.value: "Методы расходятся умеренно: от {low} до {high}. Публикуйте диапазон, а не одно "
                               "число, и указывайте, на каком предположении основана каждая оценка.",
        Spread.WIDE.value: "Методы сильно расходятся: от {low} до {high}, более чем вдвое. Данные не позволяют "
                           "выбрать между этими предположениями; публикуйте диапазон и объясняйте его.",
        "review": "Текст переведён для tipsom без профессионального переводчика: перед официальной публикацией "
                  "его должен проверить носитель языка.",
    },
}


def spread(rows: Sequence[Row]) -> tuple[Spread, float, float] | None:
    """The category of disagreement and the smallest and largest point estimates (``None`` with < 2 estimates)."""
    values = [r.estimate for r in rows if math.isfinite(r.estimate)]
    if len(values) < 2:
        return None
    low, high = min(values), max(values)
    ratio = high / low
    kind = Spread.CLOSE if ratio <= CLOSE_RATIO else Spread.MODERATE if ratio <= MODERATE_RATIO else Spread.WIDE
    return kind, low, high


def _number(v: float, lang: Language) -> str:
    if not math.isfinite(v):
        return "∞"
    text = f"{v:,.0f}"
    return text if lang is Language.EN else text.replace(",", "\u202f")


def sensitivity_note(rows: Sequence[Row], lang: Language) -> str:
    """The sentence that says, in ``lang``, how much the estimate depends on the method."""
    found = spread(rows)
    if found is None:
        return ""
    kind, low, high = found
    return TEXT[lang][kind.value].format(low=_number(low, lang), high=_number(high, lang))


def build_comparison_html(table: CaptureTable, rows: Sequence[Row], lang: Language) -> str:
    """A self-contained page (right to left for Arabic) that prints to PDF (template ``comparison.html``)."""
    t = TEXT[lang]
    shown = [{"name": t[r.method.value], "assumes": t[f"a_{r.method.value}"],
              "missing": r.missing if r.missing or not math.isfinite(r.estimate) else None,
              "estimate": _number(r.estimate, lang), "low": _number(r.low, lang), "high": _number(r.high, lang)}
             for r in rows]
    return render(
        "tipsom.estimate", "comparison.html", lang=lang.value, t=t, rows=shown,
        observed=t["observed"].format(lists=table.n_lists, observed=_number(table.observed, lang)),
        note=sensitivity_note(rows, lang), source=table.source,
    )


def write_comparison(out_dir: Path, table: CaptureTable, rows: Sequence[Row], languages: Sequence[Language],
                     pdf: bool = False) -> list[Path]:
    """``comparison.<lang>.html`` (and ``.pdf``) for each language."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in languages:
        page = build_comparison_html(table, rows, lang)
        path = out_dir / f"comparison.{lang.value}.html"
        path.write_text(page, encoding="utf-8")
        written.append(path)
        if pdf:
            written.append(html_to_pdf(page, out_dir / f"comparison.{lang.value}.pdf"))
    return written


def comparison_rows(table: CaptureTable, *, threshold: float, seed: int, stepwise_interval: Interval | None = None,
                    lcmcr_settings: SamplerSettings | None = None) -> list[Row]:
    """The four methods on ``table``; a method that refuses the table gets its reason instead of a number.

    ``stepwise_interval`` reuses an interval already computed (the report's
    BCa); otherwise the Wald interval of the stepwise model is shown.
    """
    from tipsom.estimate.dga import dga
    from tipsom.estimate.lcmcr import SamplerSettings, lcmcr
    from tipsom.estimate.mse import IntervalMethod, Selection, estimate

    def attempt(method: Method, run: Callable[[], tuple[float, Interval]]) -> Row:
        try:
            point, ci = run()
        except InputError as exc:
            return Row(method, missing=exc.reason)
        return Row(method, point, ci.low, ci.high)

    def stepwise() -> tuple[float, Interval]:
        e = estimate(table, Selection.STEPWISE, IntervalMethod.WALD, threshold=threshold)
        return e.total, stepwise_interval or e.interval

    def bic() -> tuple[float, Interval]:
        e = estimate(table, Selection.BIC, IntervalMethod.WALD)
        return e.total, e.interval

    def latent() -> tuple[float, Interval]:
        p = lcmcr(table, lcmcr_settings or SamplerSettings(seed=seed))
        return p.total, p.interval

    def averaged() -> tuple[float, Interval]:
        p = dga(table)
        return p.total, p.interval

    return [attempt(Method.STEPWISE, stepwise), attempt(Method.BIC, bic), attempt(Method.LCMCR, latent),
            attempt(Method.DGA, averaged)]
