import { test, expect, signIn, hydrated, settled, clearFaults } from "./fixtures";
import type { Page } from "@playwright/test";

// Reconciliation as an admin does it, against the real server and the embedded engine's reconciler, on the
// demo's Corporate Directory and its known drift (three accounts whose department and title differ from
// xavyo's, missing accounts, orphans, ...; see engine/src/demo/setup.rs). The data these tests change —
// Corporate Directory's reconciliation runs, its discrepancies and the accounts they remediate — is used by no
// other spec; the fault injected in the third test is taken off again whatever happens.

const DIRECTORY = "00000000-0000-4000-8000-00000000c001";
const LEGACY_HR = "00000000-0000-4000-8000-00000000c002";
const BASE = `/connectors/${DIRECTORY}/reconciliation`;

const discrepancyRows = (page: Page) => page.getByRole("table", { name: "Discrepancies" }).locator("tbody tr");

/** The cells of the discrepancies table's column headed `name` (found by its header, not its position). */
async function column(page: Page, name: string) {
  const table = page.getByRole("table", { name: "Discrepancies" });
  const headers = (await table.locator("thead th").allInnerTexts()).map((h) => h.trim().toLowerCase());
  const index = headers.indexOf(name.toLowerCase());
  expect(index, `column ${name} in ${headers}`).toBeGreaterThanOrEqual(0);
  return table.locator(`tbody tr td:nth-child(${index + 1})`);
}

/** Starts a run from the connector's runs page and follows it to its page; answers the run page's URL. */
async function startRun(page: Page, { dryRun }: { dryRun: boolean }) {
  await page.goto(BASE);
  await hydrated(page);
  await page.getByLabel("Mode").selectOption("full");
  const dry = page.getByRole("checkbox", { name: /^Dry run/ });
  if (dryRun) await dry.check();
  else await dry.uncheck();
  await page.getByRole("button", { name: "Start run" }).click();
  const started = page.getByRole("status").filter({ hasText: "Run started." });
  await started.getByRole("link", { name: "Follow the new run" }).click();
  await expect(page).toHaveURL(new RegExp(`${BASE}/runs/[0-9a-f-]{36}$`));
  await hydrated(page);
  return page.url();
}

/** Sets the latency Corporate Directory injects into every call, through its fault-injection dialog. */
async function latency(page: Page, ms: number) {
  await page.goto("/connectors");
  await hydrated(page);
  await page.getByRole("button", { name: "Fault injection for Corporate Directory" }).click();
  const dialog = page.getByRole("dialog", { name: "Fault injection: Corporate Directory" });
  await dialog.getByLabel("Latency (ms)").fill(String(ms));
  await dialog.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("status").getByText("Fault settings saved: the connector is active.")).toBeVisible();
}

/** Waits, on a run's page, until the run has completed (the page follows it on its own). */
async function completed(page: Page) {
  await expect(page.getByLabel("Run status")).toHaveText("Completed", { timeout: 30_000 });
  const bar = page.getByRole("progressbar", { name: "Accounts compared" });
  const total = await bar.getAttribute("aria-valuemax");
  expect(Number(total)).toBeGreaterThan(0);
  await expect(bar).toHaveAttribute("aria-valuenow", total!);
}

test("the sidebar and the connectors page lead to each connector's reconciliation", async ({ page }) => {
  await signIn(page, "/connectors");
  await page.getByRole("link", { name: "Reconciliation of Corporate Directory" }).click();
  await expect(page).toHaveURL(new RegExp(`${BASE}$`));
  await expect(page.getByRole("heading", { name: "Reconciliation: Corporate Directory" })).toBeVisible();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reconciliation" }).click();
  await expect(page).toHaveURL(/\/connectors\/reconciliation$/);
  const row = page.getByRole("row").filter({ hasText: "Corporate Directory" });
  await expect(row).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reconciliation" })).toHaveAttribute("aria-current", "page");
  await row.getByRole("link", { name: "Corporate Directory" }).click();
  await expect(page).toHaveURL(new RegExp(`${BASE}$`));
  // The demo's history is there: a failed run, a dry run, the scheduled full run.
  await expect(page.getByRole("table", { name: "Reconciliation runs" }).locator("tbody tr").first()).toBeVisible();
});

test("a dry run finds the drift; one mismatch is previewed and remediated; a real run no longer finds it", async ({ page }) => {
  await signIn(page, BASE);
  const runUrl = await startRun(page, { dryRun: true });
  await completed(page);
  await expect(page.getByRole("heading", { name: "Report" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Performance" })).toBeVisible();

  // The report's count of mismatches opens the discrepancies page filtered by this run and that type.
  await page.getByRole("link", { name: /\d+ mismatch discrepancies/ }).click();
  const runId = runUrl.split("/").pop()!;
  await expect(page).toHaveURL(new RegExp(`run_id=${runId}`));
  await expect(page).toHaveURL(/discrepancy_type=mismatch/);
  await hydrated(page);
  await expect(page.getByLabel("Type")).toHaveValue("mismatch");
  const types = await column(page, "Type");
  expect(new Set((await types.allInnerTexts()).map((t) => t.trim()))).toEqual(new Set(["Mismatch"]));

  // Only pending rows are actionable; take the first.
  await page.getByLabel("Resolution").selectOption("pending");
  await expect(page).toHaveURL(/resolution_status=pending/);
  await settled(page);
  const row = discrepancyRows(page).first();
  const id = await row.getAttribute("data-discrepancy");
  const uid = (await row.locator("td").nth(3).innerText()).trim();
  const attribute = (await row.locator("td").nth(4).innerText()).trim();
  expect(uid).not.toBe("—");
  expect(attribute).not.toBe("");

  // Preview: the suggested remediation and exactly what it would change.
  await row.getByRole("button", { name: "Preview" }).click();
  const preview = page.getByRole("dialog", { name: "Preview" });
  await expect(preview.getByText("Suggested: Update, xavyo → target")).toBeVisible();
  await expect(preview.getByRole("listitem").filter({ hasText: `${attribute}: ` }).first()).toBeVisible();
  await preview.getByRole("button", { name: "Close" }).click();
  await expect(preview).toBeHidden();

  // Remediate: only what fits a mismatch is offered (an update, either way).
  await row.getByRole("button", { name: "Remediate" }).click();
  const dialog = page.getByRole("dialog", { name: /^Remediate: Mismatch of/ });
  const offered = await dialog.getByLabel("Remediation").locator("option").allInnerTexts();
  expect(offered).toEqual(["Update, xavyo → target", "Update, target → xavyo"]);
  await dialog.getByLabel("Remediation").selectOption("update:xavyo_to_target");
  await dialog.getByRole("button", { name: "Remediate", exact: true }).click();
  await expect(page.getByRole("status").getByText(/^Remediated: Mismatch of/)).toBeVisible();
  // The list re-renders from the server: that row is resolved now and left the pending list.
  await settled(page);
  await expect(page.locator(`tr[data-discrepancy="${id}"]`)).toHaveCount(0);
  await page.getByLabel("Resolution").selectOption("resolved");
  await expect(page).toHaveURL(/resolution_status=resolved/);
  await settled(page);
  await expect(page.locator(`tr[data-discrepancy="${id}"]`)).toContainText("Resolved");

  // The audit log has it: what was done, by whom, and the change.
  await page.getByRole("link", { name: "Audit log" }).click();
  await hydrated(page);
  await page.getByLabel("Action").selectOption("update");
  await expect(page).toHaveURL(/action_type=update/);
  await settled(page);
  await page.getByLabel("Dry run").selectOption("false");
  await expect(page).toHaveURL(/dry_run=false/);
  await settled(page);
  const entry = page.getByRole("table", { name: "Reconciliation audit log" }).locator("tbody tr").first();
  await expect(entry).toContainText("Update");
  await expect(entry).toContainText("You");
  await expect(entry).toContainText("Success");
  await expect(entry).toContainText(`${attribute}: `);

  // A real run compares again: that account no longer differs on that attribute.
  const second = await startRun(page, { dryRun: false });
  await completed(page);
  const secondId = second.split("/").pop()!;
  await page.goto(`${BASE}/discrepancies?run_id=${secondId}&discrepancy_type=mismatch&external_uid=${encodeURIComponent(uid)}`);
  const attributes = (await (await column(page, "Attribute")).allInnerTexts()).map((a) => a.trim());
  expect(attributes).not.toContain(attribute);
});

test("discrepancies selected across two pages are remediated together, a dry run first", async ({ page }) => {
  await signIn(page, BASE);
  const runUrl = await startRun(page, { dryRun: true });
  await completed(page);
  const runId = runUrl.split("/").pop()!;
  const toolbar = page.getByRole("toolbar", { name: "Selection" });
  const count = toolbar.getByRole("status");
  const boxes = page.getByRole("table", { name: "Discrepancies" }).locator("tbody").getByRole("checkbox");
  const pageBox = page.getByRole("checkbox", { name: "Select every pending discrepancy on this page" });

  // Every pending discrepancy of the run, three a page: click the first, shift-click the third, and the one
  // between is selected too. Clear empties the selection.
  await page.goto(`${BASE}/discrepancies?run_id=${runId}&resolution_status=pending&limit=3`);
  await hydrated(page);
  await expect(count).toHaveText("0 selected");
  await expect(boxes).toHaveCount(3);
  await boxes.nth(0).click();
  await boxes.nth(2).click({ modifiers: ["Shift"] });
  for (const box of await boxes.all()) await expect(box).toBeChecked();
  await expect(pageBox).toBeChecked();
  await expect(count).toHaveText("3 selected");
  await boxes.nth(1).press("Space");
  await expect(pageBox).not.toBeChecked();
  await expect(count).toHaveText("2 selected");
  await toolbar.getByRole("button", { name: "Clear selection" }).click();
  await expect(count).toHaveText("0 selected");
  for (const box of await boxes.all()) await expect(box).not.toBeChecked();

  // The run's pending mismatches, two a page.
  const filter = `${BASE}/discrepancies?run_id=${runId}&discrepancy_type=mismatch&resolution_status=pending`;
  await page.goto(`${filter}&limit=2`);
  await hydrated(page);
  const total = Number((await page.getByText(/Showing \d+–\d+ of \d+/).innerText()).match(/of (\d+)/)![1]);
  expect(total, "pending mismatches in the demo's drift").toBeGreaterThanOrEqual(3);
  // "Select all" takes every match at once (one bulk remediation can), whatever the page.
  await toolbar.getByRole("button", { name: `Select all ${total} pending matching this filter` }).click();
  await expect(count).toHaveText(`${total} selected`);
  await toolbar.getByRole("button", { name: "Clear selection" }).click();
  await expect(count).toHaveText("0 selected");

  // By hand now: the first page with a click and a shift-click, then the next page; the selection survives
  // the page change.
  await boxes.first().click();
  await boxes.last().click({ modifiers: ["Shift"] });
  await expect(pageBox).toBeChecked();
  await expect(count).toHaveText("2 selected");
  await page.getByRole("link", { name: "Next" }).click();
  await hydrated(page);
  await expect(count).toHaveText("2 selected");
  await pageBox.check();
  const selected = 2 + (await boxes.count());
  await expect(count).toHaveText(`${selected} selected`);

  // The bulk dialog: the remediations that fit them all, a dry run with each change, then the real thing.
  await toolbar.getByRole("button", { name: "Remediate selected…" }).click();
  const dialog = page.getByRole("dialog", { name: "Remediate the selected discrepancies" });
  await expect(dialog.getByText(`${selected} discrepancies selected.`)).toBeVisible();
  const offered = await dialog.getByLabel("Remediation").locator("option").allInnerTexts();
  expect(offered).toEqual(["Update, xavyo → target", "Update, target → xavyo"]);
  await dialog.getByLabel("Remediation").selectOption("update:xavyo_to_target");
  await expect(dialog.getByRole("button", { name: `Remediate ${selected}` })).toHaveCount(0);
  await dialog.getByRole("button", { name: "Dry run" }).click();
  const dry = dialog.getByRole("table", { name: "Dry run: what would change" });
  await expect(dry.locator("tbody tr")).toHaveCount(selected);
  await expect(dry.locator('tbody tr[data-outcome="succeeded"]')).toHaveCount(selected);
  await expect(dry.getByRole("listitem").first()).toContainText("→");
  await dialog.getByRole("button", { name: `Remediate ${selected}` }).click();
  const results = dialog.getByRole("table", { name: "Results" });
  await expect(results.locator("tbody tr")).toHaveCount(selected);
  await expect(results.locator('tbody tr[data-outcome="succeeded"]')).toHaveCount(selected);
  await expect(results.locator("tbody tr").first()).toContainText("Succeeded");
  await expect(page.getByRole("status").getByText(`${selected} succeeded, 0 failed, 0 skipped.`)).toBeVisible();
  // Done ones leave the selection; the list behind the dialog re-rendered without them.
  await expect(count).toHaveText("0 selected");
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog).toBeHidden();
  await page.goto(filter);
  await expect(page.getByText("No discrepancies match these filters.")).toBeVisible();
});

test("runs that cannot start say why; a slow run is deduped, paused, resumed and cancelled", async ({ page, request, pageErrors }) => {
  // The refused remediation is a 409 answer, which the browser logs.
  pageErrors.allow(/status of 409/);
  await signIn(page, `/connectors/${LEGACY_HR}/reconciliation`);
  // Legacy HR is disabled: the start gate blocks it and says what to do; there is no run to link to.
  await page.getByRole("button", { name: "Start run" }).click();
  const outcome = page.locator('[data-outcome="blocked"]');
  await expect(outcome).toContainText("Blocked: Legacy HR is disabled");
  await expect(outcome).toContainText("Next step: enable the connector.");
  await expect(outcome.getByRole("link")).toHaveCount(0);

  // Corporate Directory made slow (every call waits 10 s), so a run stays active long enough to act on it.
  await latency(page, 10_000);
  try {
    await page.goto(BASE);
    await hydrated(page);
    await page.getByRole("button", { name: "Start run" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Run started." })).toBeVisible();
    // A second start of the same run while it is active: deduped, with a link to the one running.
    const accepted = page.locator('[data-outcome="accepted"]');
    const runHref = await accepted.getByRole("link", { name: "Follow the new run" }).getAttribute("href");
    await page.getByRole("button", { name: "Start run" }).click();
    const deduped = page.locator('[data-outcome="deduped"]');
    await expect(deduped).toContainText("Already in progress:");
    await expect(deduped.getByRole("link", { name: "Open the run already doing this" })).toHaveAttribute("href", runHref!);

    // A remediation while the run holds the connector: scope busy, nothing changed.
    await page.goto(`${BASE}/discrepancies?discrepancy_type=mismatch&resolution_status=pending`);
    await hydrated(page);
    const row = discrepancyRows(page).first();
    const id = await row.getAttribute("data-discrepancy");
    await row.getByRole("button", { name: "Remediate" }).click();
    const dialog = page.getByRole("dialog", { name: /^Remediate: Mismatch of/ });
    await dialog.getByLabel("Remediation").selectOption("update:xavyo_to_target");
    await dialog.getByRole("button", { name: "Remediate", exact: true }).click();
    await expect(page.getByText(/Connector busy: a reconciliation run holds this connector/).first()).toBeVisible();
    await page.goto(`${BASE}/discrepancies?discrepancy_type=mismatch&resolution_status=pending`);
    await expect(page.locator(`tr[data-discrepancy="${id}"]`)).toHaveCount(1);

    await page.goto(runHref!);
    await hydrated(page);

    const status = page.getByLabel("Run status");
    await expect(status).toHaveText("Running", { timeout: 15_000 });
    await page.getByRole("button", { name: "Pause" }).click();
    await expect(page.getByRole("status").getByText("The run is now paused.")).toBeVisible();
    await expect(status).toHaveText("Paused");
    await expect(page.getByRole("button", { name: "Pause" })).toHaveCount(0);
    await page.getByRole("button", { name: "Resume" }).click();
    await expect(page.getByRole("status").getByText(/The run is now (pending|running)\./)).toBeVisible();

    await page.getByRole("button", { name: "Cancel" }).click();
    const confirm = page.getByRole("dialog", { name: "Cancel this run?" });
    await confirm.getByRole("button", { name: "Keep it" }).click();
    await expect(confirm).toBeHidden();
    await expect(status).not.toHaveText("Cancelled");
    await page.getByRole("button", { name: "Cancel" }).click();
    await confirm.getByRole("button", { name: "Cancel run" }).click();
    await expect(status).toHaveText("Cancelled");
    await expect(page.getByRole("group", { name: "Run actions" })).toHaveCount(0);
  } finally {
    // Through the engine's API: the page may be what failed.
    await clearFaults(request, "Corporate Directory");
  }
});
