"""The dashboard in a real browser: Debian's headless Chromium, driven by playwright, against a real
uvicorn API and a real worker process. Screenshots of every page land in the test's tmp path."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from playwright.sync_api import ConsoleMessage, expect, sync_playwright

from cli.embedded_redis import free_port
from db.migrate import upgrade
from els.settings import Settings
from tests.e2e.api.conftest import ALICE_TOKEN, BOB_TOKEN, digest, essay_text
from tests.support.workers import ROOT, WorkerProcess, worker_environment

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


@dataclass
class Served:
    """The API's base URL and where the test keeps its screenshots."""

    base_url: str
    shots: Path


@pytest.fixture
def served(redis_url: str, postgres_url: str, redis_client: redis.Redis, tmp_path: Path) -> Iterator[Served]:
    """uvicorn serving the API (two owners' tokens) and one worker process, both on settings of their own."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does) to run the browser test"
        )
    upgrade(postgres_url)
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        redis_url=redis_url, database_url=postgres_url, key_prefix=f"elstest-ui{tag}", queue=f"els-ui{tag}"
    )
    port = free_port()
    env = worker_environment(settings)
    env["ELS_API_TOKENS"] = json.dumps({digest(ALICE_TOKEN): "alice-ui", digest(BOB_TOKEN): "bob-ui"})
    worker = WorkerProcess("ui-worker", env, tmp_path)
    worker.start()
    log = (tmp_path / "api.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api:app_from_environment", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        give_up = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > give_up or server.poll() is not None:
                    raise AssertionError((tmp_path / "api.log").read_text()) from None
                time.sleep(0.2)
        shots = tmp_path / "screenshots"
        shots.mkdir()
        yield Served(base_url, shots)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        worker.stop()
        redis_client.delete(settings.queue, settings.celery_control_queue)


def test_a_teacher_follows_a_batch_from_registration_to_report_and_another_owner_sees_nothing(
    served: Served, tmp_path: Path
) -> None:
    essays = []
    for index, topic in enumerate(["rivers and bridges", "volcanoes under the sea", "music of the forest"]):
        path = tmp_path / f"essay-{index}.txt"
        path.write_text(essay_text(topic) + " " + essay_text(f"{topic} again"), encoding="utf-8")
        essays.append(path)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            policy_violations: list[str] = []

            def on_console(message: ConsoleMessage) -> None:
                if "Content Security Policy" in message.text or message.type == "error":
                    policy_violations.append(message.text)

            page.on("console", on_console)
            answer = page.goto(f"{served.base_url}/ui/")
            assert answer is not None
            policy = answer.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
            page.screenshot(path=served.shots / "01-sign-in.png")

            page.get_by_label("API token").fill(ALICE_TOKEN)
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("#no-batches")).to_be_visible()

            # Register through the dashboard's own form.
            page.get_by_label("Essays").fill("3")
            page.get_by_role("button", name="Register a batch").click()
            page.wait_for_url("**/ui/#/batch/*")
            batch_id = page.url.rsplit("/", 1)[1]
            page.goto(f"{served.base_url}/ui/#/")
            row = page.locator(f'tr[data-batch="{batch_id}"]')
            expect(row).to_contain_text("open")
            expect(row.locator(".progress-wrap")).to_have_attribute("data-missing", "3")
            page.screenshot(path=served.shots / "02-batch-list.png")

            # Upload: one file dropped on the drop zone, two through the file picker.
            row.get_by_role("link", name=batch_id).click()
            expect(page.locator("#drop")).to_be_visible()
            drop = page.evaluate_handle(
                """([name, text]) => { const data = new DataTransfer();
                    data.items.add(new File([text], name, { type: "text/plain" })); return data; }""",
                [essays[0].name, essays[0].read_text(encoding="utf-8")],
            )
            page.dispatch_event("#drop", "drop", {"dataTransfer": drop})
            expect(page.locator("#upload-status")).to_contain_text("Accepted 1 file")
            page.set_input_files("#files", [str(essays[1]), str(essays[2])])
            expect(page.locator("#upload-status")).to_contain_text("Accepted 2 file")

            # The progress bar fills as the worker assigns the slots; it never goes back.
            bar = page.locator("#live .progress-wrap")
            seen: list[int] = []
            give_up = time.monotonic() + 120
            while not seen or seen[-1] < 3:
                assert time.monotonic() < give_up, f"the bar stopped at {seen}"
                value = bar.get_attribute("data-assigned")
                if value is not None and (not seen or int(value) != seen[-1]):
                    seen.append(int(value))
                page.wait_for_timeout(200)
            assert seen == sorted(seen) and seen[-1] == 3
            expect(page.locator('#live [data-field="state"]')).to_have_text("done", timeout=120_000)
            expect(page.locator("#slots tbody tr")).to_have_count(3)
            expect(page.locator('#slots tbody tr[data-state="analysed"]')).to_have_count(3, timeout=30_000)
            for essay in essays[:3]:
                expect(page.locator("#slots tbody")).to_contain_text(essay.name)  # every slot names its file
            page.screenshot(path=served.shots / "03-batch-page.png", full_page=True)

            page.locator("#report-link").click()
            expect(page.locator('#counts [data-field="analysed"]')).to_have_text("3")
            expect(page.locator("#words-histogram rect.bar")).to_have_count(8)
            expect(page.locator("#readability-histogram rect.bar")).to_have_count(8)
            expect(page.locator("#measures tbody tr")).to_have_count(3)
            page.screenshot(path=served.shots / "04-report.png", full_page=True)
            assert policy_violations == []

            # Another owner, in a tab of their own, sees none of it.
            other = browser.new_page(viewport={"width": 1280, "height": 900})
            other.goto(f"{served.base_url}/ui/")
            other.get_by_label("API token").fill(BOB_TOKEN)
            other.get_by_role("button", name="Sign in").click()
            expect(other.locator("#no-batches")).to_be_visible()
            other.goto(f"{served.base_url}/ui/#/batch/{batch_id}")
            expect(other.locator("#batch-error")).to_contain_text("NOT_FOUND")
            other.goto(f"{served.base_url}/ui/#/report/{batch_id}")
            expect(other.locator("#report-error")).to_contain_text("NOT_FOUND")
            other.screenshot(path=served.shots / "05-other-owner.png")
        finally:
            browser.close()
