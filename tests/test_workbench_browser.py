"""The workbench in Debian's Chromium driven by Selenium through Debian's chromium-driver
(nothing downloaded at test time): keyboard triage of ten flags lands in the database, the
evidence's own script does not run (in the frame or opened alone), a dealer page opens."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

import workbench_fixtures as wf
from monitor.storage.models import Evidence, Listing, ReviewDecision
from monitor.workbench import create_app
from workbench_fixtures import Served

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (`make install` adds it)")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="Debian's chromium and chromium-driver are not installed (`make test` installs them when run as root)",
)


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": str(tmp_path / "downloads"),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[Served, object, dict[str, int]]]:
    db, ids = wf.make_database(tmp_path)
    server = Served(create_app(db, analyst="analyst-b"))
    yield server, db, ids
    server.stop()
    db.dispose()


def wait_for(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def current_decisions(db) -> dict[int, tuple[str, str, str]]:
    with db.session() as s:
        return {d.listing_id: (d.decision, d.reviewer, d.note)
                for d in s.scalars(select(ReviewDecision).where(ReviewDecision.current.is_(True)))}


def test_keyboard_triage_evidence_and_dealer(browser, served, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    server, db, ids = served
    browser.get(server.base + "/")
    order = [int(e.get_attribute("data-listing")) for e in browser.find_elements(By.CSS_SELECTOR, "li.flag")]
    assert len(order) >= 10
    keys = ActionChains(browser)
    keys.send_keys("n").send_keys("老料 需复核").send_keys(Keys.ENTER).perform()
    expected = {}
    for index in range(10):
        decision = "confirmed" if index % 3 else "rejected"
        ActionChains(browser).send_keys("c" if decision == "confirmed" else "r").perform()
        expected[order[index]] = decision
    wait_for(lambda: len(current_decisions(db)) == 10)
    got = current_decisions(db)
    assert {k: v[0] for k, v in got.items()} == expected
    assert {v[1] for v in got.values()} == {"analyst-b"} and got[order[0]][2] == "老料 需复核"
    ActionChains(browser).send_keys("u").perform()
    wait_for(lambda: len(current_decisions(db)) == 9)
    assert order[9] not in current_decisions(db)
    ActionChains(browser).send_keys("c").perform()
    wait_for(lambda: current_decisions(db).get(order[9], ("",))[0] == "confirmed")
    statuses = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.flag .status")][:10]
    assert statuses == [expected[i] if i != order[9] else "confirmed" for i in order[:10]]
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors

    browser.get(server.base + f"/listing/{ids['script']}")
    frame = browser.find_element(By.ID, "evidence-frame")
    assert frame.get_attribute("sandbox") == ""
    browser.switch_to.frame(frame)
    wait_for(lambda: browser.find_elements(By.ID, "h"))
    assert browser.find_element(By.ID, "h").text == "象牙 evidence"
    browser.switch_to.default_content()
    with db.session() as s:
        sha = s.execute(select(Evidence.sha256).join(Listing, Listing.id == Evidence.listing_id)
                        .where(Listing.external_id == "script")).scalar()
    browser.get(server.base + f"/evidence/{sha}")
    assert browser.find_element(By.ID, "h").text == "象牙 evidence" and browser.title == "evidence"

    browser.get(server.base + f"/listing/{ids['gbk']}")
    browser.switch_to.frame(browser.find_element(By.ID, "evidence-frame"))
    wait_for(lambda: browser.find_elements(By.ID, "t"))
    assert browser.find_element(By.ID, "t").text == wf.GBK_TEXT
    browser.switch_to.default_content()

    with db.session() as s:
        dealer = s.execute(select(Listing.dealer_id).where(Listing.external_id == "script")).scalar()
    browser.get(server.base + f"/dealer/{dealer}")
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Dealer {dealer}"
    assert browser.find_elements(By.CSS_SELECTOR, "svg.timeline rect")
    assert "13800138000" in browser.find_element(By.TAG_NAME, "main").text

    browser.find_element(By.ID, "dossier-en").click()
    downloads = tmp_path / "downloads"
    wait_for(lambda: [p for p in downloads.glob("*.xlsx")] if downloads.is_dir() else False)
    saved = next(downloads.glob("*.xlsx"))
    assert saved.name == f"dealer-{dealer}-dossier-en.xlsx"
    book = openpyxl.load_workbook(saved)
    assert any("13800138000" in str(c.value) for sheet in book for row in sheet.iter_rows() for c in row)
