"""Vocabulary of the money module: formats, channels, typologies, findings, errors.

Decisions that change results (which engine, which attribution rule, what to do
with bad rows) are enums rather than strings or booleans, so a typo fails at the
command line instead of silently choosing a default.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from tipsom.core.errors import InputError
from tipsom.core.vocab import OnError


class InputFormat(enum.StrEnum):
    """The transaction sources the module reads."""

    NATIVE = "native"
    AMLWORLD = "amlworld"
    AMLSIM = "amlsim"
    GOAML = "goaml"
    CRYPTO = "crypto"


class Channel(enum.StrEnum):
    """How value moved; informal channels matter in smuggling economies."""

    BANK = "bank"
    MOBILE_MONEY = "mobile_money"
    HAWALA = "hawala"
    REMITTANCE = "remittance"
    CRYPTO = "crypto"
    CASH = "cash"


#: What a reader does with malformed rows (the one bad-record policy every command shares).
ErrorPolicy = OnError


class Direction(enum.StrEnum):
    FORWARD = "forward"
    BACKWARD = "backward"


class Attribution(enum.StrEnum):
    """How an account's outgoing money is matched to the money that came in."""

    FIFO = "fifo"  # oldest incoming money leaves first
    PROPORTIONAL = "proportional"  # every payment carries the account's current mix


class AmountRule(enum.StrEnum):
    """Which payments may follow each other on a cycle."""

    SIMILAR = "similar"  # each hop carries ScanConfig.hop_ratio of the one before: the same money moving on
    ANY = "any"  # any amounts: the structure alone (what graph-feature tools such as snapml count)


class Period(enum.StrEnum):
    """Time unit of corridor figures."""

    MONTH = "month"
    YEAR = "year"


class Typology(enum.StrEnum):
    """Laundering patterns the scanner detects (names follow FATF/AMLworld usage)."""

    FAN_IN = "fan_in"
    FAN_OUT = "fan_out"
    SCATTER_GATHER = "scatter_gather"
    GATHER_SCATTER = "gather_scatter"
    CYCLE = "cycle"
    STRUCTURING = "structuring"
    PASS_THROUGH = "pass_through"
    ROUND_AMOUNTS = "round_amounts"
    HIGH_FREQUENCY = "high_frequency"
    HIGH_RISK_CORRIDOR = "high_risk_corridor"

    @property
    def pattern_name(self) -> str:
        """The label used in AMLworld-style pattern (truth) files."""
        return _PATTERN_NAMES[self]

    @classmethod
    def from_pattern_name(cls, name: str) -> Typology | None:
        """Map a truth-file label to a typology; AMLworld's STACK, BIPARTITE and RANDOM have none."""
        key = name.strip().upper()
        for typology, label in _PATTERN_NAMES.items():
            if label == key:
                return typology
        return None


_PATTERN_NAMES = {
    Typology.FAN_IN: "FAN-IN",
    Typology.FAN_OUT: "FAN-OUT",
    Typology.SCATTER_GATHER: "SCATTER-GATHER",
    Typology.GATHER_SCATTER: "GATHER-SCATTER",
    Typology.CYCLE: "CYCLE",
    Typology.STRUCTURING: "STRUCTURING",
    Typology.PASS_THROUGH: "PASS-THROUGH",
    Typology.ROUND_AMOUNTS: "ROUND-AMOUNTS",
    Typology.HIGH_FREQUENCY: "HIGH-FREQUENCY",
    Typology.HIGH_RISK_CORRIDOR: "HIGH-RISK CORRIDOR",
}

#: Column order of the canonical transaction table every reader produces.
TX_COLUMNS = (
    "tx_id",
    "row",
    "t",
    "src",
    "dst",
    "amount",
    "currency",
    "amount_base",
    "channel",
    "src_country",
    "dst_country",
    "src_institution",
    "dst_institution",
    "reference",
    "month",
)


@dataclass(frozen=True)
class RowError:
    """One rejected input row: enough to find and fix it in the source file."""

    file: str
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: {self.field}: {self.reason}"


class MoneyInputError(InputError):
    """Raised when input cannot be analysed; carries every row error found."""

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        self.errors = errors or []
        shown = "\n".join(f"  {e}" for e in self.errors[:50])
        more = f"\n  ... and {len(self.errors) - 50} more" if len(self.errors) > 50 else ""
        super().__init__(f"{message}\n{shown}{more}" if self.errors else message)


@dataclass(frozen=True)
class Finding:
    """One (account, typology) result with its evidence and a plain explanation."""

    account: str
    typology: Typology
    score: float
    tx_ids: tuple[str, ...]
    amount: float
    first_t: int
    last_t: int
    explanation: str
    counterparties: tuple[str, ...] = field(default=())
