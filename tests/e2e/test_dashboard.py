"""The dashboard and GraphiQL in a real browser (headless Chromium) against a real gateway:
browse a datastream's data on the timeline, create an export after its estimate, watch the
live progress bar reach 100 %, download the file and read it back with pyarrow; cancel and
delete jobs; edit an export schema with its live preview; run a query in GraphiQL. Nothing
the pages load may come from anywhere but the gateway.

Screenshots go to test-artifacts/dashboard/ (git-ignored)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    WebSocketRoute,
    expect,
    sync_playwright,
)

from tests.helpers.data import BINANCE, Dataset
from tests.helpers.environments import GatewayHandle
from tests.helpers.operations import CANCEL, CREATE, DELETE, JOB, LONG_EXPORT, create
from tests.helpers.services import unavailable

# One embedded gateway, the one the other end-to-end tests share.
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("gateway", ["embedded"], indirect=True)]

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Debian's Chromium as it is, with nothing that reaches out to the net on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
TIMEOUT_MS = 30_000  # what a page waits for at most: a slow, busy machine, never a hang
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    print(f"\nbrowser screenshots and downloads: {ARTIFACTS}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile that refuses (and records) every request off this machine."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1500, "height": 1100})
    context.set_default_timeout(TIMEOUT_MS)
    elsewhere: list[str] = []

    def only_local(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    yield context
    context.close()
    assert elsewhere == [], f"the pages asked for something off the gateway: {elsewhere}"


def open_dashboard(context: BrowserContext, gateway: GatewayHandle) -> Page:
    """The link `make run` prints: the key in the fragment, stored by the page."""
    page = context.new_page()
    page.goto(f"{gateway.gateway.url}/dashboard#key={gateway.key_a}")
    expect(page.get_by_test_id("viewer")).to_contain_text("workspace alpha")
    assert "#key" not in page.url  # the key left the address bar
    return page


def no_errors(page: Page) -> None:
    """Nothing the page asked the gateway for was refused (the banner shows any error)."""
    expect(page.locator(".banner")).to_have_count(0)


def shot(page: Page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def test_an_export_from_the_timeline_to_the_downloaded_file(
    gateway: GatewayHandle, dataset: Dataset, context: BrowserContext
) -> None:
    page = open_dashboard(context, gateway)
    row = page.locator(f'tr[data-datastream="{BINANCE.id}"]')
    row.get_by_role("checkbox").check()
    row.locator("button.range").first.click()  # its available range becomes the export's
    form = page.locator("#new-export")
    form.locator('select[name="format"]').select_option("PARQUET")
    form.locator('select[name="schema"]').select_option("raw")
    records = sorted(dataset.records[BINANCE.id])
    # The estimate of exactly these options is shown before the job can be created.
    expect(page.get_by_test_id("estimated-rows")).to_be_visible()
    expect(form.get_by_role("button", name="Create export")).to_be_enabled()
    assert (
        form.locator('input[name="startTime"]').input_value()
        <= form.locator('input[name="endTime"]').input_value()
    )
    shot(page, "1-estimate")

    form.get_by_role("button", name="Create export").click()
    created = form.get_by_text("created exp_")
    expect(created).to_be_visible()
    job_id = created.inner_text().split()[-1]
    job = page.locator(f'tr[data-job="{job_id}"]')
    # Only the subscription tells the page that the job ran and finished.
    expect(job).to_have_attribute("data-status", "SUCCEEDED")
    expect(job.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    shot(page, "2-finished")

    with page.expect_download() as download:
        job.locator("a[download]").first.click()
    saved = ARTIFACTS / download.value.suggested_filename
    download.value.save_as(saved)
    table = pq.read_table(saved)
    timestamps = [int(t) for t in table.column("collection_timestamp_ns").cast("int64").to_pylist()]
    assert timestamps == [ts for ts, _ in records]
    assert table.column("data").to_pylist() == [message for _, message in records]

    job.get_by_role("button", name="Delete").click()
    expect(job).to_have_count(0)
    assert gateway.client().execute(JOB, {"id": job_id})["exportJob"] is None
    no_errors(page)


def test_a_job_created_elsewhere_appears_live_and_is_canceled_from_the_page(
    gateway: GatewayHandle, context: BrowserContext
) -> None:
    page = open_dashboard(context, gateway)
    expect(page.get_by_text("● live")).to_be_visible()
    created = gateway.client().execute(CREATE, {"input": LONG_EXPORT})["createExport"]
    job_id = created["exportJob"]["id"]
    job = page.locator(f'tr[data-job="{job_id}"]')
    expect(job).to_have_attribute("data-status", "RUNNING")
    shot(page, "3-running")
    job.get_by_role("button", name="Cancel").click()
    expect(job).to_have_attribute("data-status", "CANCELED")
    assert gateway.client().execute(JOB, {"id": job_id})["exportJob"]["status"] == "CANCELED"
    no_errors(page)


def test_the_jobs_table_catches_up_on_what_happened_while_its_connection_was_down(
    gateway: GatewayHandle, context: BrowserContext
) -> None:
    page = context.new_page()
    connections: list[WebSocketRoute] = []
    down = False

    def through_the_test(ws: WebSocketRoute) -> None:
        """The page's WebSockets pass here: refused while `down`, else to the gateway."""
        if down:
            ws.close()
            return
        connections.append(ws.connect_to_server())
        connections.append(ws)

    page.route_web_socket(re.compile(r"/graphql$"), through_the_test)
    page.goto(f"{gateway.gateway.url}/dashboard#key={gateway.key_a}")
    expect(page.get_by_text("● live")).to_be_visible()
    job_id = create(gateway)["exportJob"]["id"]
    job = page.locator(f'tr[data-job="{job_id}"]')
    expect(job).to_have_attribute("data-status", "SUCCEEDED")

    down = True
    for connection in connections:
        connection.close()
    expect(page.get_by_text("○ connecting")).to_be_visible()
    deleted = gateway.client().execute(DELETE, {"id": job_id})["deleteExport"]
    assert deleted["deletedId"] == job_id
    expect(job).to_have_count(1)  # the page cannot know yet
    down = False
    # Reconnected, it asks for the changes since the last one it saw: the deletion.
    expect(page.get_by_text("● live")).to_be_visible()
    expect(job).to_have_count(0)
    no_errors(page)


def test_the_schema_editor_previews_every_edit(
    gateway: GatewayHandle, context: BrowserContext
) -> None:
    page = open_dashboard(context, gateway)
    editor = page.locator("#schema-editor")
    editor.locator('select[name="base"]').select_option(label="normalized (trade)")
    editor.locator('select[name="previewDatastream"]').select_option(f"ds_{BINANCE.id}")
    preview = page.get_by_test_id("preview")
    expect(preview.locator("th").first).to_be_visible()
    expect(preview.locator("tbody tr")).to_have_count(10)
    definition = editor.locator('textarea[name="definition"]')
    text = definition.input_value()
    assert '"outputColumn": "price"' in text
    definition.fill(text.replace('"outputColumn": "price"', '"outputColumn": "trade_price"'))
    expect(preview.locator("th", has_text="trade_price")).to_be_visible()
    shot(page, "4-schema-editor")
    name = f"dashboard_{uuid.uuid4().hex[:8]}"
    editor.locator('input[name="schemaName"]').fill(name)
    editor.get_by_role("button", name="Save schema").click()
    expect(editor.get_by_text(f"saved {name} v1")).to_be_visible()
    # Now a schema of the workspace, offered for exports.
    expect(page.locator(f'#new-export select[name="schema"] option[value="{name}"]')).to_have_count(
        1
    )
    no_errors(page)
    definition.fill(text.replace('"data.p"', '"data.p" +'))
    expect(preview.get_by_role("alert")).to_contain_text("not JSON")


def test_graphiql_runs_a_query(gateway: GatewayHandle, context: BrowserContext) -> None:
    open_dashboard(context, gateway).close()  # GraphiQL takes the dashboard's stored key
    page = context.new_page()
    page.goto(f"{gateway.gateway.url}/graphql")
    expect(page.locator(".graphiql-query-editor")).to_contain_text("datastreams")
    expect(page.locator(".graphiql-editor-tool")).to_contain_text(gateway.key_a[:12])
    page.locator(".graphiql-execute-button").click()
    result = page.locator(".result-window")
    expect(result).to_contain_text('"datastreams"')
    expect(result).to_contain_text(f'"ds_{BINANCE.id}"')
    shot(page, "5-graphiql")

    # A subscription goes over graphql-ws: its first event is the running job's state.
    created = gateway.client().execute(CREATE, {"input": LONG_EXPORT})["createExport"]
    job_id = created["exportJob"]["id"]
    try:
        page.locator(".graphiql-query-editor .CodeMirror").click()
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        page.keyboard.insert_text("subscription { exportJobsUpdated { id status } }")
        # GraphiQL parses the editor's text a moment after it changes, and picks the
        # transport from what it parsed (a query it still thinks it has goes over HTTP).
        page.wait_for_timeout(1000)
        page.locator(".graphiql-execute-button").click()
        expect(result).to_contain_text(job_id)
        shot(page, "6-graphiql-subscription")
    finally:
        gateway.client().execute(CANCEL, {"id": job_id})
