"""Consensus templates and cluster profiles (movement, prices, risk with reasons)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tipsom.osint.profile import RiskLevel, profile_cluster
from tipsom.osint.records import Ad
from tipsom.osint.scan import Scanner
from tipsom.osint.template import build_template


def test_template_keeps_common_words_and_slots_the_varying_ones() -> None:
    texts = [
        "Hi I am Anna 19 years new in town call now",
        "Hi I am Maria 22 years new in town call now",
        "Hi I am Lola 19 years new in town tonight call now",
        "Hi I am Zoe 20 years new in town tonight call now",
        "Hi I am Kim 21 years new in town call now",
    ]
    template = build_template(texts)
    assert template.text == "Hi I am {1} years new in town {2} call now"
    assert ("Anna 19", 1) in template.slots[0].fillers
    assert template.slots[1].fillers == [("tonight", 2)]
    assert 0.7 < template.coverage < 1.0


def test_profile_reports_movement_prices_and_risk_reasons() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    cities = ["Miami", "Miami", "Atlanta", "Houston", "Dallas", "Dallas"]
    ads = [
        Ad(f"x{i}", f"New in town! Young Anna, 17 years old, ask for my manager. $200. Call 305-555-01{i:02d}",
           location=f"{city}, USA", posted_at=start + timedelta(days=2 * i))
        for i, city in enumerate(cities)
    ]
    scanner = Scanner()
    profile = profile_cluster("cl-x0", [scanner.scan(ad) for ad in ads])
    assert [s.city for s in profile.movement] == ["Miami", "Atlanta", "Houston", "Dallas"]
    assert profile.movement[0].ads == 2
    assert profile.prices == {"USD": (200.0, 200.0)}
    signals = {r.signal for r in profile.reasons}
    assert {"stated_minor", "movement", "rotating_phones", "third_party_control", "youth"} <= signals
    assert profile.level is RiskLevel.HIGH
    assert profile.evidence[0]["raw_sha256"] == ads[0].raw_sha256
    assert profile.to_json()["template"]["text"]
