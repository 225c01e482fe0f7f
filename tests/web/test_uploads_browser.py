"""Issue 15 finding 13 in Chromium: the attachment form still works with the upload checks; empty files refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import LiveServer
from tests.web.test_browser import offline_page, sign_in
from tipsom.web import integrations

pytestmark = pytest.mark.browser
__all__ = ["offline_page"]  # the fixture, imported to be used here


def test_a_file_is_attached_in_the_browser_and_an_empty_one_refused(offline_page: tuple[Any, list[str]],
                                                                    live_server: LiveServer, tmp_path: Path) -> None:
    page, blocked = offline_page
    case_id = live_server.env.case_a
    before = len(integrations.attachments(live_server.env.store, case_id))
    sign_in(page, live_server, "demo.caseworker")
    page.goto(f"{live_server.url}/cases/{case_id}")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    page.set_input_files("#file", str(empty))
    page.get_by_role("button", name="Add to the evidence vault").click()
    assert "Empty file" in page.content()
    assert len(integrations.attachments(live_server.env.store, case_id)) == before
    page.goto(f"{live_server.url}/cases/{case_id}")
    contract = tmp_path / "contract.txt"
    contract.write_bytes(b"work contract, 14 hours a day, passport kept by the employer")
    page.set_input_files("#file", str(contract))
    page.get_by_role("button", name="Add to the evidence vault").click()
    page.wait_for_url(f"{live_server.url}/cases/{case_id}")
    assert "contract.txt" in page.content()
    assert len(integrations.attachments(live_server.env.store, case_id)) == before + 1
    assert blocked == []
