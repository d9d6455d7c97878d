"""The web console in a real browser: Debian's chromium driven by Playwright.

``hub up --console`` runs as a separate process on its local Apache Kafka. An operator signs
in, watches a flow, finds a rejected message, corrects it in the browser and resubmits it; the
corrected message comes out on Kela's topic. An auditor verifies the audit log, finds the
resubmission, sees an identity code only on request (recorded as a disclosure) and looks the
person up. The operator never gets to see the identity code. Beside a running hub, the
municipal-share page shows a month's statement from the share ledger and its forecast chart.

With ``CONSOLE_SCREENSHOTS=DIR`` the test also saves a screenshot of every page into DIR
(``docs/console/`` holds the ones docs/console.md shows).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from hub.share.ledger import open_share_ledger, stored_record
from tests.console_pages import PERSON_REF
from tests.e2e.conftest import RunningHub, hub_env, run_hub
from tests.e2e.test_authorities_story import JOBSEEKER, SECRET, _referral, _status
from tests.integration.conftest import read_topic
from tests.support import benefit_day_event, free_port, send_each

pytestmark = pytest.mark.e2e

T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"
OPERATOR, AUDITOR = ("olli", "operator-password-1"), ("aino", "auditor-password-1")
_CONSOLE_LINE = re.compile(r"console on (http://\S+)")


@dataclass
class ConsoleHub:
    """A running ``hub up --console`` and where to reach it."""

    process: subprocess.Popen[bytes]
    url: str
    bootstrap: str
    data_dir: Path
    env: dict[str, str]


def _add_user(env: dict[str, str], name: str, role: str, password: str) -> None:
    added = run_hub(
        "console", "users", "add", name, "--role", role, "--password-stdin",
        env=env, stdin=f"{password}\n".encode(),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


@pytest.fixture
def console_hub(tmp_path: Path) -> Iterator[ConsoleHub]:
    data_dir = tmp_path / "data"
    env = hub_env(
        data_dir,
        HUB_PSEUDONYM_SECRET=SECRET,
        HUB_CONSOLE_PORT=str(free_port()),
        HUB_CONSOLE_REFRESH_S="1",
    )
    _add_user(env, *OPERATOR[:1], "operator", OPERATOR[1])
    _add_user(env, *AUDITOR[:1], "auditor", AUDITOR[1])
    out, err = tmp_path / "hub.out", tmp_path / "hub.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "up", "--console"],
            env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
        )  # fmt: skip
    try:
        url = bootstrap = ""
        deadline = time.monotonic() + 120
        while not url and time.monotonic() < deadline and process.poll() is None:
            text = out.read_text(errors="replace")
            found = _CONSOLE_LINE.search(text)
            boot = re.search(r"export HUB_KAFKA_BOOTSTRAP=(\S+)", text)
            if found and boot:
                url, bootstrap = found.group(1), boot.group(1)
            time.sleep(0.2)
        if not url:
            pytest.fail(f"hub up --console did not start:\n{out.read_text()}\n{err.read_text()}")
        yield ConsoleHub(process, url.rstrip("/"), bootstrap, data_dir, env)
    finally:
        if process.poll() is None:
            process.send_signal(2)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # Debian's chromium, never a browser Playwright would download; no sandbox as root.
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


def _off_the_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run Kafka clients in a thread of their own: Playwright's sync API keeps an event loop
    running in the test's thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _fill_share_ledger(data_dir: Path) -> None:
    """Three benefit-day records of March 2025 in the hub's share ledger (SQLite)."""
    ledger = open_share_ledger(data_dir, None)
    try:
        march = {"period_start": "2025-03-03", "period_end": "2025-03-14", "paid_days": 10,
                 "amount_paid": "372.10", "payment_date": "2025-03-24"}  # fmt: skip
        ledger.add(
            stored_record(benefit_day_event(**fields))
            for fields in (
                {
                    **march,
                    "record_id": "S1",
                    "person_id": "010190-951B",
                    "home_municipality": "398",
                    "cumulative_days": 140,
                },
                {
                    **march,
                    "record_id": "S2",
                    "person_id": "020285-951H",
                    "home_municipality": "398",
                    "cumulative_days": 210,
                },
                {
                    **march,
                    "record_id": "S3",
                    "person_id": "131052-930V",
                    "home_municipality": "098",
                    "cumulative_days": 120,
                },
            )
        )
    finally:
        ledger.close()


def _sign_in(page: Page, url: str, who: tuple[str, str]) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Name").fill(who[0])
    page.get_by_label("Password").fill(who[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Flows")).to_be_visible()


def test_operator_fixes_a_rejected_message_and_the_auditor_follows_it(
    console_hub: ConsoleHub, browser: Browser
) -> None:
    url = console_hub.url
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    not_found: list[str] = []
    page.on("response", lambda r: not_found.append(r.url) if r.status == 404 else None)
    page.goto(f"{url}/login")
    _shot(page, "login")
    page.get_by_label("Name").fill(OPERATOR[0])
    page.get_by_label("Password").fill("wrong-password-123")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Sign-in failed.")
    _sign_in(page, url, OPERATOR)

    # A good message and one with a month 13: the flow shows one in, one dead letter.
    good = _status("m-1", "398", "02", "2025-03-01")
    bad = _status("m-2", "398", "02", "2025-13-01")
    referral = _referral("L-2025-1", JOBSEEKER, "lahti", "sote", "KUNTOUTTAVA_TYOTOIMINTA")
    _off_the_loop(
        send_each(
            console_hub.bootstrap,
            [
                ("in.lahti.client-status", None, good),
                ("in.lahti.client-status", None, bad),
                ("in.lahti.service-referral", None, referral),
            ],
        )
    )
    row = page.locator("#routes tr[data-route='lahti.client-status']")
    expect(row.locator("td.in")).to_have_text("2", timeout=60_000)  # htmx refreshes the table
    expect(row.locator("td.dlq")).to_have_text("1")
    expect(row).to_contain_text("bad-date")
    _shot(page, "flows")

    page.get_by_role("link", name="Dead letters").click()
    page.get_by_label("Reason").select_option("bad-date")
    page.get_by_role("button", name="Filter").click()
    letters = page.locator("#deadletters tbody tr")
    expect(letters).to_have_count(1)
    expect(page.locator("#shown")).to_have_text("1 matching dead letter(s).")
    expect(letters.first).to_contain_text("open")
    _shot(page, "deadletters")
    letters.first.locator("a").click()
    payload = page.locator("textarea[name=payload]")
    assert "[hetu]" in payload.input_value()
    assert JOBSEEKER not in page.content()  # the operator never sees the identity code
    _shot(page, "deadletter")

    # Without a reason the browser refuses; with one, the corrected payload goes out.
    payload.fill(payload.input_value().replace("2025-13-01", "2025-03-01"))
    page.locator("#resubmit input[name=reason]").fill("month typed as 13; 03 confirmed by Lahti")
    page.get_by_role("button", name="Resubmit to in.lahti.client-status").click()
    expect(page.locator("#message")).to_contain_text("Resubmitted to in.lahti.client-status")
    expect(page.locator("#state")).to_contain_text("resubmitted by olli")
    assert JOBSEEKER not in page.content()
    letter_path = page.url.split("?")[0]

    kela = _off_the_loop(
        read_topic(
            console_hub.bootstrap, "out.kela.client-status", until=lambda rs: len(rs) >= 2,
            timeout_s=60,
        )
    )  # fmt: skip
    assert len(kela) == 2
    assert b"2025-03-01" in (kela[1].value or b"")

    # Two more rejected: one is closed, the other resubmitted as an uploaded corrected file.
    for number, change in enumerate(("m-3", "m-4"), start=2):
        late = _status(change, "398", "02", "2025-13-02")
        _off_the_loop(send_each(console_hub.bootstrap, [("in.lahti.client-status", None, late)]))
        page.get_by_role("link", name="Flows").click()
        expect(row.locator("td.dlq")).to_have_text(str(number), timeout=60_000)
        page.goto(f"{url}/deadletters?state=open")
        expect(letters).to_have_count(1)
        letters.first.locator("a").click()
        if change == "m-3":
            page.locator("#close input[name=reason]").fill("sent again by Lahti as m-4")
            page.get_by_role("button", name="Close without resubmitting").click()
            expect(page.locator("#state")).to_contain_text("closed by olli")
        else:
            corrected = late.decode().replace(JOBSEEKER, "[hetu]").replace("13-02", "03-02")
            page.locator("input[name=upload]").set_input_files(
                files=[{"name": "m-4.json", "mimeType": "application/json",
                        "buffer": corrected.encode()}]
            )  # fmt: skip
            page.locator("#resubmit input[name=reason]").fill("corrected file from Lahti")
            page.get_by_role("button", name="Resubmit to in.lahti.client-status").click()
            expect(page.locator("#state")).to_contain_text("resubmitted by olli")
    page.goto(f"{url}/deadletters")
    expect(letters).to_have_count(3)
    expect(letters.filter(has_text="resubmitted")).to_have_count(2)
    expect(letters.filter(has_text="closed")).to_have_count(1)
    kela = _off_the_loop(
        read_topic(
            console_hub.bootstrap, "out.kela.client-status", until=lambda rs: len(rs) >= 3,
            timeout_s=60,
        )
    )  # fmt: skip
    assert len(kela) == 3
    assert b"2025-03-02" in (kela[2].value or b"")

    # The operator may not open the audit, nor ask for the original bytes.
    assert page.goto(f"{url}/audit").status == 403
    response = page.request.post(f"{letter_path}/reveal", form={"reason": "curious"})
    assert response.status == 403
    assert JOBSEEKER not in response.text()
    page.get_by_role("button", name="Sign out").click()

    # The auditor: verification, the resubmission in the log, a code only on request.
    _sign_in(page, url, AUDITOR)
    page.get_by_role("link", name="Referrals").click()
    page.get_by_role("link", name="L-2025-1").click()
    expect(page.locator("#referral")).to_contain_text("sent")
    expect(page.locator("#history tbody tr")).to_have_count(1)
    assert JOBSEEKER not in page.content()
    _shot(page, "referrals")
    page.get_by_role("link", name="Audit").click()
    handled = page.locator("#handled tbody tr")
    expect(handled).to_have_count(3)  # newest first
    expect(handled.nth(2)).to_contain_text("resubmitted")
    expect(handled.nth(2)).to_contain_text("month typed as 13; 03 confirmed by Lahti")
    expect(handled.nth(2)).to_contain_text('"by":"olli"')
    expect(handled.nth(1)).to_contain_text("closed")
    expect(handled.nth(0)).to_contain_text("corrected file from Lahti")
    page.get_by_role("button", name="Verify every chain now").click()
    expect(page.locator("#verdict")).to_contain_text("Holds")
    expect(page.locator("#anchor")).to_be_visible()  # held against an anchor, or a note why not
    _shot(page, "audit")

    page.goto(letter_path)
    assert JOBSEEKER not in page.content()
    page.locator("#reveal input[name=reason]").fill("data subject's access request 2025-17")
    page.get_by_role("button", name="Show the original bytes").click()
    expect(page.locator("#original")).to_contain_text(JOBSEEKER)

    page.get_by_role("link", name="Audit").click()
    page.get_by_label("Identity code").fill(JOBSEEKER)
    page.locator("#person").locator("..").locator("input[name=reason]").fill(
        "data subject's access request 2025-17"
    )
    page.get_by_role("button", name="Look up").last.click()
    disclosures = page.locator("#disclosures tbody tr")
    expect(disclosures.filter(has_text="console:aino")).to_have_count(2)  # the reveal, the look-up
    expect(disclosures.filter(has_text="out.kela.client-status")).to_have_count(3)
    assert JOBSEEKER not in page.locator("#person").inner_text()

    # A wrong check character: the error replaces the previous person's results (htmx swaps
    # the 400 answer's fragment too).
    wrong = JOBSEEKER[:-1] + "A"
    assert wrong != JOBSEEKER
    page.get_by_label("Identity code").fill(wrong)
    page.get_by_role("button", name="Look up").last.click()
    expect(page.locator("#person [role=alert]")).to_contain_text("Not a valid identity code")
    expect(disclosures).to_have_count(0)
    assert not_found == []  # every page names its icon inline: no /favicon.ico 404
    page.get_by_role("button", name="Sign out").click()

    # A wrong identity code: the operator, who never sees it, types the corrected code (as
    # the sender gave it) in place of its [hetu]; the corrected message comes out on Kela's.
    wrong_code = _status("m-5", "398", "02", "2025-03-05").replace(
        JOBSEEKER.encode(), wrong.encode()
    )
    _off_the_loop(send_each(console_hub.bootstrap, [("in.lahti.client-status", None, wrong_code)]))
    _sign_in(page, url, OPERATOR)
    page.goto(f"{url}/deadletters?state=open&reason=invalid-identity-code")
    expect(letters).to_have_count(1, timeout=60_000)
    letters.first.locator("a").click()
    expect(page.locator("#resubmit")).to_contain_text("type the whole corrected code")
    assert wrong not in page.content()
    assert payload.input_value().count("[hetu]") == 1
    payload.fill(payload.input_value().replace("[hetu]", JOBSEEKER))
    page.locator("#resubmit input[name=reason]").fill("check character confirmed by Lahti")
    page.get_by_role("button", name="Resubmit to in.lahti.client-status").click()
    expect(page.locator("#state")).to_contain_text("resubmitted by olli")
    kela = _off_the_loop(
        read_topic(
            console_hub.bootstrap, "out.kela.client-status", until=lambda rs: len(rs) >= 4,
            timeout_s=60,
        )
    )  # fmt: skip
    assert len(kela) == 4
    assert b"2025-03-05" in (kela[3].value or b"")


def test_hub_console_beside_a_running_hub_reads_its_metrics(
    start_hub: Callable[..., RunningHub], browser: Browser, tmp_path: Path
) -> None:
    metrics_port, console_port = free_port(), free_port()
    hub = start_hub(HUB_PSEUDONYM_SECRET=SECRET, HUB_METRICS_PORT=str(metrics_port))
    hub.wait_ready()
    _add_user(hub.env, "olli", "operator", OPERATOR[1])
    env = {**hub.env, "HUB_CONSOLE_PORT": str(console_port), "HUB_CONSOLE_REFRESH_S": "1"}
    out = tmp_path / "console.out"
    with out.open("wb") as stdout:
        console = subprocess.Popen(
            [sys.executable, "-m", "hub", "console"],
            env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "console on" not in out.read_text() and time.monotonic() < deadline:
            assert console.poll() is None, out.read_text()
            time.sleep(0.2)
        url = f"http://127.0.0.1:{console_port}"
        page = browser.new_page()
        _sign_in(page, url, OPERATOR)
        _off_the_loop(
            send_each(
                hub.bootstrap,
                [("in.lahti.client-status", None, _status("m-1", "398", "02", "2025-03-01"))],
            )
        )
        row = page.locator("#routes tr[data-route='lahti.client-status']")
        expect(row.locator("td.in")).to_have_text("1", timeout=60_000)
        expect(page.get_by_text("Hub: ready")).to_be_visible()

        # The municipal share: a statement from the share ledger and the forecast chart.
        _fill_share_ledger(Path(hub.env["HUB_DATA_DIR"]))
        page.get_by_role("link", name="Municipal share").click()
        expect(page.get_by_role("heading", name="Municipal share")).to_be_visible()
        page.get_by_label("Month", exact=True).fill("2025-03")
        page.get_by_label("Authority").select_option("lahti")
        page.get_by_label("Yearly budget, €").fill("2400")
        page.get_by_role("button", name="Show").click()
        statement = page.locator("#share-statement tbody tr")
        expect(statement).to_have_count(2)
        expect(statement.nth(0)).to_contain_text("398")
        expect(statement.nth(1)).to_contain_text("74.42")
        expect(page.locator("#share-rules")).to_contain_text("NOT yet confirmed")
        chart = page.locator("#share-chart")
        expect(chart).to_be_visible()
        page.wait_for_function(
            "() => { const i = document.querySelector('#share-chart');"
            " return i.complete && i.naturalWidth === 900; }"
        )
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        assert (
            "398,2025-03,TMT,2025,20,1,10,372.10,74.42" in Path(download.value.path()).read_text()
        )
        assert PERSON_REF.search(page.content()) is None
        _shot(page, "share")
    finally:
        console.send_signal(2)
        assert console.wait(30) == 0
    assert "console stopped" in out.read_text()
