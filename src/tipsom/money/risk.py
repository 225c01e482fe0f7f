"""Account risk scores combining typology findings and links to cases.

A score is a noisy-OR: each piece of evidence independently "explains" the
account with some probability, and the account's score is the chance that at
least one does. Weights say how specific each piece of evidence is to
laundering (a cycle of similar sums is more telling than a burst of payments),
and a direct link to a person on a trafficking or smuggling case weighs most.
Scores rank accounts for review; they are not findings of fact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from tipsom.money.model import Finding, Typology

TYPOLOGY_WEIGHTS = {
    Typology.CYCLE: 0.8,
    Typology.SCATTER_GATHER: 0.75,
    Typology.GATHER_SCATTER: 0.75,
    Typology.PASS_THROUGH: 0.7,
    Typology.STRUCTURING: 0.7,
    Typology.FAN_IN: 0.5,
    Typology.FAN_OUT: 0.5,
    Typology.HIGH_RISK_CORRIDOR: 0.5,
    Typology.ROUND_AMOUNTS: 0.3,
    Typology.HIGH_FREQUENCY: 0.3,
}
#: The account is held by (or identified with) a person on a case.
CASE_LINK_WEIGHT = 0.6
#: The account paid or was paid by an account linked to a case.
COUNTERPARTY_LINK_WEIGHT = 0.3


@dataclass(frozen=True)
class AccountRisk:
    account: str
    score: float
    typologies: tuple[Typology, ...]
    cases: tuple[str, ...]
    linked_counterparties: tuple[str, ...]
    explanation: str


def risk_scores(
    findings: list[Finding], transactions: pd.DataFrame, case_links: dict[str, set[tuple[str, str]]]
) -> list[AccountRisk]:
    """Score every account with a finding, a case link or a case-linked counterparty."""
    by_account: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_account[f.account].append(f)
    linked = set(case_links)
    neighbours: dict[str, set[str]] = defaultdict(set)
    if linked:
        tx = transactions[transactions["src"].isin(linked) | transactions["dst"].isin(linked)]
        for src, dst in tx[["src", "dst"]].itertuples(index=False):
            if src in linked and dst != src:
                neighbours[str(dst)].add(str(src))
            if dst in linked and dst != src:
                neighbours[str(src)].add(str(dst))
    out = []
    for account in sorted(set(by_account) | linked | set(neighbours)):
        keep = 1.0
        reasons = []
        best: dict[Typology, float] = {}
        for f in by_account.get(account, []):
            best[f.typology] = max(best.get(f.typology, 0.0), f.score)
        for typ, s in sorted(best.items()):
            keep *= 1 - TYPOLOGY_WEIGHTS[typ] * s
            reasons.append(f"{typ.value} ({s:.2f})")
        cases = sorted({case for case, _ in case_links.get(account, set())})
        if cases:
            keep *= 1 - CASE_LINK_WEIGHT
            reasons.append(f"linked to case(s) {', '.join(cases)}")
        via = sorted(neighbours.get(account, set()) - {account})
        if via:
            keep *= 1 - COUNTERPARTY_LINK_WEIGHT
            reasons.append(f"transacted with {len(via)} case-linked account(s)")
        out.append(
            AccountRisk(account, round(1 - keep, 4), tuple(sorted(best)), tuple(cases), tuple(via), "; ".join(reasons))
        )
    return sorted(out, key=lambda r: (-r.score, r.account))


def risk_frame(scores: list[AccountRisk]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "account": r.account,
                "score": r.score,
                "typologies": " ".join(t.value for t in r.typologies),
                "cases": " ".join(r.cases),
                "linked_counterparties": " ".join(r.linked_counterparties),
                "explanation": r.explanation,
            }
            for r in scores
        ],
        columns=["account", "score", "typologies", "cases", "linked_counterparties", "explanation"],
    )
