"""TOTP enrolment shows the provisioning URI as an inline QR code, with the typed key as fallback."""

from __future__ import annotations

import re
import urllib.parse

import segno

from tests.web.conftest import WebEnv, csrf_of, signed_in
from tipsom.web import accounts


def _modules(svg: str) -> set[tuple[int, int]]:
    """Dark modules (column, row) of a segno SVG path: ``M x y`` then ``h n`` runs and relative ``m dx dy``."""
    path = re.search(r'stroke="#000" d="([^"]+)"', svg)
    assert path, "no path in the QR code"
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path.group(1)):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark.update((int(x) + i, int(y)) for i in range(int(a)))
            x += float(a)
    return dark


def test_enrolment_page_shows_the_secret_as_a_qr_code_and_as_text(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.viewer")
    page = c.get("/account")
    enrol = c.post("/account/totp", data={"csrf_token": csrf_of(page.text)})
    assert enrol.status_code == 200
    secret = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7]+)</code>', enrol.text)
    assert secret, "the key is still shown as text for apps that cannot scan"
    figure = re.search(r'<figure class="totp-qr">(<svg.*?</svg>)</figure>', enrol.text, re.S)
    assert figure, "no inline QR code"
    svg = figure.group(1)
    for external in ("http", "<script", "<image"):
        assert external not in svg
    assert "<title>QR code for your authenticator app</title>" in svg
    uri = re.search(r"<small>(otpauth://[^<]+)</small>", enrol.text)
    assert uri
    assert urllib.parse.parse_qs(urllib.parse.urlparse(uri.group(1).replace("&amp;", "&")).query)["secret"] == [
        secret.group(1)]
    expected = segno.make(uri.group(1).replace("&amp;", "&"), error="m")
    drawn = _modules(svg)
    wanted = {(col + 4, row) for row, line in enumerate(expected.matrix, start=4)
              for col, bit in enumerate(line) if bit}
    assert drawn == wanted, "the QR code encodes exactly the provisioning URI, with a four-module quiet zone"


def test_qr_code_is_drawn_offline_with_a_light_background() -> None:
    svg = accounts.totp_qr_svg("otpauth://totp/tipsom:a?secret=JBSWY3DPEHPK3PXP&issuer=tipsom", "t")
    assert svg.startswith("<svg")
    assert '<path fill="#fff"' in svg
    assert 'class="qr"' in svg
