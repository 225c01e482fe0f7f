"""Whether a person's recorded consent covers a use of their personal data.

Exports with personal data, referrals that carry it and research linkage
each ask here, with the purpose they serve, and leave out the persons whose
consent does not cover it. They also say how many were left out and why:
a caseworker who receives fewer victims than expected must know it was
consent, not a fault.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tipsom.schema.enums import ConsentPurpose


class ConsentRefusal(enum.StrEnum):
    """Why a person's personal data may not be used for a purpose."""

    #: No informed consent is recorded (``consent_given`` is not true).
    NO_CONSENT = "no_consent"
    #: Consent is recorded, but its purposes do not include this one.
    PURPOSE_NOT_COVERED = "purpose_not_covered"


def refusal(person: Mapping[str, Any], purpose: ConsentPurpose) -> ConsentRefusal | None:
    """Why ``person`` (a document's person, or a row with the same fields) may not be used for ``purpose``.

    ``consent_purposes`` may be a list of codes (a document) or the stored
    ``|``-joined text (a row). ``None`` means the consent covers it.
    """
    if person.get("consent_given") is not True:
        return ConsentRefusal.NO_CONSENT
    given = person.get("consent_purposes") or []
    codes = given.split("|") if isinstance(given, str) else list(given)
    return None if str(purpose) in codes else ConsentRefusal.PURPOSE_NOT_COVERED


@dataclass
class ConsentTally:
    """How many persons a use of personal data left out, by reason."""

    purpose: ConsentPurpose
    left_out: Counter[ConsentRefusal] = field(default_factory=Counter)

    def allows(self, person: Mapping[str, Any]) -> bool:
        """Whether ``person`` may be used; counts them as left out if not."""
        why = refusal(person, self.purpose)
        if why is not None:
            self.left_out[why] += 1
        return why is None

    @property
    def total(self) -> int:
        return sum(self.left_out.values())

    def to_dict(self) -> dict[str, Any]:
        return {"consent_purpose": str(self.purpose), "left_out": self.total,
                **{str(r): self.left_out[r] for r in ConsentRefusal}}

    def describe(self, outcome: str = "left out") -> str:
        """One line for a person reading the command's output: how many persons had ``outcome``, and why."""
        return (f"{self.total} person(s) {outcome}: consent does not cover {self.purpose} "
                f"({self.left_out[ConsentRefusal.NO_CONSENT]} without recorded consent, "
                f"{self.left_out[ConsentRefusal.PURPOSE_NOT_COVERED]} with consent for other purposes)")
