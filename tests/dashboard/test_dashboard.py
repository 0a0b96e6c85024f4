"""`fedchain dashboard` in a real browser: the command serves the page from its own process against an anvil
node, headless Chromium (Debian's package, which `make test` installs) loads it, and the page follows the
chain without a reload while a round finalizes and its model's metrics are published."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from fedchain.chain import Chain, connect
from fedchain.chain.coordinator import RoundPhase
from fedchain.task.read import parse_task
from tests.deploy.conftest import HOSPITALS, RAW_CONFIG, DeployedTask, deploy_task

pytestmark = pytest.mark.anvil

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PAGE_TIMEOUT_MS = 60_000
"""How long the page may take to show a change: generous, the machines that run the tests are slow and shared."""
START_TIMEOUT_S = 60
ACCURACY = 0.8125


@pytest.fixture
def chain() -> Iterator[Chain]:
    """A fresh anvil node (the dashboard reads it from another process)."""
    with connect("anvil") as anvil:
        yield anvil


@pytest.fixture
def task(chain: Chain, tmp_path: Path) -> DeployedTask:
    """A two-round plain task with three hospitals and an aggregator, as `fedchain participant run` and `aggregator
    run` build them."""
    deployed = deploy_task(chain, tmp_path, parse_task(RAW_CONFIG))
    for index in range(HOSPITALS):
        deployed.add_hospital(index)
    deployed.add_aggregator()
    return deployed


def dashboard_command(chain: Chain, task: DeployedTask, task_id: int) -> list[str]:
    """`fedchain dashboard` of ``task_id`` on ``task``'s coordinator, on any free port."""
    assert chain.url is not None
    return [sys.executable, "-m", "fedchain", "dashboard", "--rpc", chain.url, "--coordinator",
            task.coordinator.address, "--task", str(task_id), "--port", "0", "--poll", "0.5"]


def served_url(process: subprocess.Popen[str]) -> str:
    """The page's URL, from the first line the command prints (failing the test if none comes in time)."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline() if process.stdout else ""),
                              daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    assert lines and lines[0], f"`fedchain dashboard` printed no URL within {START_TIMEOUT_S} s " \
                               f"(exit code {process.poll()})"
    match = re.search(r"(http://127\.0\.0\.1:\d+/) \(Ctrl-C stops it\)$", lines[0].strip())
    assert match, f"unexpected first line: {lines[0]!r}"
    return match.group(1)


def test_an_unknown_task_is_one_line_and_a_non_zero_exit(chain: Chain, task: DeployedTask) -> None:
    result = subprocess.run(dashboard_command(chain, task, 99), capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == f"error: task 99 does not exist on coordinator {task.coordinator.address}"


def test_the_page_follows_a_round_that_finalizes_without_a_reload(chain: Chain, task: DeployedTask) -> None:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium package " \
                              "(apt-get install chromium)"
    federation, task_id = task.federation, task.created.task_id
    federation.run_until(lambda: federation.phase() == RoundPhase.COMMIT)  # the hospitals joined: round 0 is open
    process = subprocess.Popen(dashboard_command(chain, task, task_id), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        url = served_url(process)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(url)
                follow_the_round(page, task)
            finally:
                browser.close()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr, stderr


def follow_the_round(page: Page, task: DeployedTask) -> None:
    """Round 0 on the page; the chain finalizes it and its metrics are published; the same page (no reload) shows
    round 1 and round 0's model with its metric; then the node stops, and the page says so."""
    federation, task_id = task.federation, task.created.task_id
    expect(page.locator("#task-id")).to_have_text(str(task_id), timeout=PAGE_TIMEOUT_MS)
    expect(page.locator("#round")).to_have_text("0", timeout=PAGE_TIMEOUT_MS)
    expect(page.locator("#phase")).to_have_text("COMMIT", timeout=PAGE_TIMEOUT_MS)
    expect(page.locator("#deadlines")).to_contain_text("commit in ", timeout=PAGE_TIMEOUT_MS)
    expect(page.locator("#rounds")).to_contain_text("no round closed yet", timeout=PAGE_TIMEOUT_MS)
    page.evaluate("window.loadedOnce = true")  # gone if the page were loaded again

    federation.run_until(lambda: federation.state().current_round == 1)
    (finalized,) = task.coordinator.finalized_models(task_id)
    task.coordinator.publish_evaluation(task_id, 0, {"accuracy": ACCURACY}, sender=task.chain.accounts[0])

    expect(page.locator("#round")).to_have_text("1", timeout=PAGE_TIMEOUT_MS)
    row = page.locator("#rounds tbody tr").first
    expect(row).to_contain_text("finalized", timeout=PAGE_TIMEOUT_MS)
    expect(row.locator(".hash").first).to_have_attribute("title", "0x" + finalized.root.hex())
    expect(row).to_contain_text(f"accuracy {ACCURACY}", timeout=PAGE_TIMEOUT_MS)
    expect(row).to_contain_text("by the requester", timeout=PAGE_TIMEOUT_MS)
    expect(page.locator("#members tbody tr")).to_have_count(HOSPITALS)
    expect(page.locator("#gas")).to_contain_text("finalize", timeout=PAGE_TIMEOUT_MS)
    assert page.evaluate("window.loadedOnce") is True, "the page was reloaded"
    expect(page.locator("#error")).to_be_hidden()

    task.chain.close()  # the node goes away: the page keeps the last state and says why it is not moving
    expect(page.locator("#error")).to_contain_text("reading the chain failed, showing block ",
                                                   timeout=PAGE_TIMEOUT_MS)
    expect(page.locator("#round")).to_have_text("1")
