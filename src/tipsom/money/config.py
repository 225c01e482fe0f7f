"""Settings of the typology detectors, and reading them from files.

Thresholds differ between a retail bank, a remittance company and a hawala
network, so every one is a field of :class:`ScanConfig` that an FIU can override
from YAML or JSON; high-risk countries and corridors come from a CSV.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, with_config

from tipsom.core.config import CLOSED, load_typed, read_file, require_mapping
from tipsom.money.model import AmountRule, MoneyInputError, RowError

#: FATF "high-risk jurisdictions subject to a call for action" (unchanged in every
#: FATF plenary list from February 2020 through 2024): DPRK, Iran, Myanmar.
#: Users add the grey list or national lists with ``--high-risk FILE``.
FATF_CALL_FOR_ACTION = frozenset({"PRK", "IRN", "MMR"})

HOUR = 3600


def _upper(codes: frozenset[str]) -> frozenset[str]:
    return frozenset(code.upper() for code in codes)


@with_config(CLOSED)
@dataclass(frozen=True)
class Corridor:
    """A high-risk corridor; an empty field matches anything."""

    src_country: str = ""
    dst_country: str = ""
    channel: str = ""


@with_config(CLOSED)
@dataclass(frozen=True)
class ScanConfig:
    """Thresholds of every detector; defaults suit retail payment data, tune per FIU."""

    fan_window_hours: int = 72
    min_fan: int = 5
    #: A fan counts only if its one-off counterparties are this share of all the
    #: account's counterparties: a shop's steady customers are not a fan-in.
    fan_burst_share: float = 0.3
    #: ... and move at least this much (base currency): five friends paid for dinner is not a fan.
    fan_min_amount: float = 2_000.0
    #: Optional: only fans whose payments have similar amounts (coefficient of variation at
    #: most this), the signature of scripted placement such as AMLSim's. None disables it.
    fan_max_cv: float | None = None
    #: Payments each one-off counterparty must make within the window (AMLSim's
    #: placement repeats small transfers from each source on one day).
    fan_min_pair_payments: int = 1
    sg_window_hours: int = 72
    min_intermediates: int = 3
    #: A forwarded payment is this fraction of the one before it (fees, a cut kept).
    hop_ratio: tuple[float, float] = (0.7, 1.05)
    cycle_max_length: int = 6
    cycle_window_hours: int = 168
    #: Whether each hop of a cycle must carry a similar amount (``hop_ratio``) or any amount.
    cycle_amounts: AmountRule = AmountRule.SIMILAR
    #: Friends repaying a small loan close a two-hop cycle; laundering cycles move real sums.
    cycle_min_amount: float = 1_000.0
    reporting_threshold: float = 10_000.0
    structuring_margin: float = 0.1
    structuring_window_hours: int = 168
    min_structured: int = 3
    pass_window_hours: int = 48
    pass_ratio: tuple[float, float] = (0.85, 1.0)
    min_passes: int = 3
    #: Share of the account's incoming payments that were passed straight on.
    pass_share: float = 0.5
    round_unit: float = 1000.0
    round_window_hours: int = 24
    min_round: int = 4
    burst_window_hours: int = 1
    min_burst: int = 15
    #: ISO 3166 alpha-3 codes, upper-cased when read from a file.
    high_risk_countries: Annotated[frozenset[str], AfterValidator(_upper)] = FATF_CALL_FOR_ACTION
    high_risk_corridors: tuple[Corridor, ...] = field(default=())


#: Settings for IBM AMLSim's labelled samples: one-step placements of repeated small
#: transfers from a few sources, spread over the whole 150-day simulation.
AMLSIM_FAN_IN = ScanConfig(
    fan_window_hours=150 * 24, min_fan=2, fan_burst_share=0.0, fan_min_amount=0.0, fan_min_pair_payments=2
)


def read_config(path: Path, cfg: ScanConfig | None = None) -> ScanConfig:
    """Override thresholds from a YAML or JSON mapping of :class:`ScanConfig` field names.

    A misspelt name, a wrong type or a stray key in a corridor is refused with
    one line naming the file and the key (a :class:`ConfigError`).
    """
    cfg = cfg or ScanConfig()
    data = require_mapping(read_file(path) or {}, path)
    current = {f.name: getattr(cfg, f.name) for f in fields(ScanConfig)}
    return load_typed({**current, **data}, ScanConfig, where=path)


def read_corridors(path: Path, cfg: ScanConfig) -> ScanConfig:
    """Add high-risk corridors from a CSV ``src_country,dst_country,channel`` (empty = any)."""
    from tipsom.money.readers import CHANNEL_ALIASES, normalise_country

    rules: list[Corridor] = []
    errors: list[RowError] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"src_country", "dst_country"} <= set(reader.fieldnames):
            raise MoneyInputError(f"{path}: needs the columns src_country,dst_country[,channel]")
        for number, rec in enumerate(reader, start=2):
            src, dst = (normalise_country(rec.get(k) or "") for k in ("src_country", "dst_country"))
            channel = (rec.get("channel") or "").strip().lower()
            if src is None or dst is None:
                errors.append(RowError(str(path), number, "country", "unknown country code or name"))
            elif channel and channel not in CHANNEL_ALIASES:
                errors.append(RowError(str(path), number, "channel", f"unknown channel {channel!r}"))
            elif not (src or dst or channel):
                errors.append(RowError(str(path), number, "corridor", "empty rule would flag every payment"))
            else:
                rules.append(Corridor(src, dst, CHANNEL_ALIASES[channel].value if channel else ""))
    if errors:
        raise MoneyInputError(f"{path}: malformed corridor rows", errors)
    return replace(cfg, high_risk_corridors=cfg.high_risk_corridors + tuple(rules))
