import { test, expect, signIn, settled } from "./fixtures";
import type { Page } from "@playwright/test";

// Quickstart scenarios 1-4, driven as an admin would, against the real server and embedded engine.
/** The cells of the operations table's column headed `name` (found by its header, not its position). */
async function column(page: Page, name: string) {
  const table = page.getByRole("table", { name: "Provisioning operations" });
  const headers = (await table.locator("thead th").allInnerTexts()).map((h) => h.trim().toLowerCase());
  const index = headers.indexOf(name.toLowerCase());
  expect(index, `column ${name} in ${headers}`).toBeGreaterThanOrEqual(0);
  return table.locator(`tbody tr td:nth-child(${index + 1})`);
}

const rows = (page: Page) => page.getByRole("table", { name: "Provisioning operations" }).locator("tbody tr");
const statusesOf = (page: Page) =>
  rows(page).locator("[data-status]").evaluateAll((els) => els.map((e) => e.getAttribute("data-status")));

test("scenario 1: filters narrow the queue, and a row opens its detail", async ({ page }) => {
  await signIn(page);
  await page.getByLabel("Connector").selectOption({ label: "Corporate Directory" });
  await expect(page).toHaveURL(/connector_id=/);
  await settled(page);
  await page.getByLabel("Type").selectOption("create");
  await expect(page).toHaveURL(/operation_type=create/);
  await settled(page);
  const types = await (await column(page, "Type")).allInnerTexts();
  expect(types.length).toBeGreaterThan(0);
  expect(new Set(types.map((t) => t.trim()))).toEqual(new Set(["Create"]));
  const connectors = await (await column(page, "Connector")).allInnerTexts();
  expect(new Set(connectors.map((t) => t.trim()))).toEqual(new Set(["Corporate Directory"]));

  // A date range in the future matches nothing, and says so.
  await page.getByLabel("From").fill("2099-01-01");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/from_date=2099-01-01/);
  await settled(page);
  await expect(page.getByText("No operations match these filters.")).toBeVisible();

  // Back to all, then open the first row.
  await page.goto("/connectors/operations");
  await rows(page).first().locator("a").first().click();
  await expect(page).toHaveURL(/\/connectors\/operations\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: "Timeline" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Payload" })).toBeVisible();
});

test("scenario 2: a failed operation is retried, runs again through the worker and shows its new attempt", async ({ page }) => {
  await signIn(page, "/connectors/operations?status=failed");
  await rows(page).first().locator("a").first().click();
  await expect(page.getByLabel("Status", { exact: true })).toContainText("Failed");
  await expect(page.getByRole("alert").filter({ hasText: "Last error" })).toBeVisible();
  const attempts = page.getByRole("table", { name: "Execution attempts" }).locator("tbody tr");
  const before = await attempts.count();
  expect(before).toBeGreaterThan(0);

  await page.getByRole("button", { name: "Retry" }).click();
  await expect(page.getByRole("status").getByText("Operation queued for retry.")).toBeVisible();
  // The worker picks it up; the page follows it until it settles with one more attempt.
  await expect(attempts).toHaveCount(before + 1, { timeout: 20_000 });
});

test("scenario 3: a dead letter is resolved with notes and leaves the queue", async ({ page }) => {
  await signIn(page, "/connectors/operations/dlq");
  const table = page.getByRole("table", { name: "Dead-letter operations" });
  await expect(table).toBeVisible();
  const summary = page.getByText(/Showing \d+–\d+ of \d+/);
  const total = Number((await summary.innerText()).match(/of (\d+)/)![1]);

  const row = table.locator("tbody tr").first();
  const link = await row.locator("a").first().getAttribute("href");
  await row.getByRole("button", { name: "Resolve" }).click();
  const dialog = page.getByRole("dialog", { name: /Resolve/ });
  await dialog.getByLabel("Resolution notes").fill("Account created by hand in the directory.");
  await dialog.getByRole("button", { name: "Resolve operation" }).click();
  await expect(page.getByRole("status").getByText("Operation resolved.")).toBeVisible();
  await expect(page.getByText(new RegExp(`of ${total - 1}$`))).toBeVisible();

  await page.goto(link!);
  await expect(page.getByLabel("Status", { exact: true })).toContainText("Resolved");
  await expect(page.getByRole("definition").filter({ hasText: "Account created by hand in the directory." })).toBeVisible();
  // Only valid actions are offered: none for a resolved operation.
  await expect(page.getByRole("button", { name: "Retry" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Resolve" })).toHaveCount(0);
});

test("scenario 4: statistics follow the connector filter", async ({ page }) => {
  await signIn(page);
  const stat = (label: string) => page.locator(`[data-stat="${label}"]`);
  const allAwaiting = Number(await stat("Awaiting system").innerText());
  expect(allAwaiting).toBeGreaterThan(0);
  await page.getByLabel("Connector").selectOption({ label: "Corporate Directory" });
  await expect(page).toHaveURL(/connector_id=/);
  await settled(page);
  // Only Cloud CRM (offline) has operations awaiting their system.
  await expect(stat("Awaiting system")).toHaveText("0");
  await page.getByLabel("Connector").selectOption({ label: "Cloud CRM" });
  await expect(stat("Awaiting system")).toHaveText(String(allAwaiting));
});

test("cancelling a pending operation asks first, then cancels it", async ({ page }) => {
  // Legacy HR is disabled: its pending operations wait and are not claimed by the worker.
  await signIn(page, "/connectors/operations?status=pending");
  await page.getByLabel("Connector").selectOption({ label: "Legacy HR" });
  await expect(page).toHaveURL(/connector_id=/);
  await settled(page);
  await expect(rows(page).first()).toBeVisible();
  await rows(page).first().locator("a").first().click();
  await expect(page.getByLabel("Status", { exact: true })).toContainText("Pending");

  await page.getByRole("button", { name: "Cancel" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel this operation?" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Keep it" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByLabel("Status", { exact: true })).toContainText("Pending");

  await page.getByRole("button", { name: "Cancel" }).click();
  await dialog.getByRole("button", { name: "Cancel operation" }).click();
  await expect(page.getByRole("status").getByText("Operation cancelled.")).toBeVisible();
  await expect(page.getByLabel("Status", { exact: true })).toContainText("Cancelled");
  await expect(page.getByRole("button", { name: "Cancel" })).toHaveCount(0);
});

test("auto-refresh: the statistics and the table follow what another tab does, without a page load", async ({ page, context }) => {
  // Legacy HR is disabled: its pending operations stay pending until someone acts on them.
  await signIn(page, "/connectors/operations?status=pending");
  await page.getByLabel("Connector").selectOption({ label: "Legacy HR" });
  await expect(page).toHaveURL(/connector_id=/);
  await settled(page);
  await page.getByRole("switch").click();
  await expect(page).toHaveURL(/live=1/);
  await expect(page).toHaveURL(/connector_id=/);
  await settled(page);
  await expect(page.getByRole("switch")).toHaveAttribute("aria-checked", "true");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const pending = page.locator('[data-stat="Pending"]');
  const before = Number(await pending.innerText());
  expect(before).toBeGreaterThan(0);
  const firstLink = await rows(page).first().locator("a").first().getAttribute("href");
  await page.evaluate(() => ((window as any).__sameDocument = true));

  // Another tab cancels the first of them.
  const other = await context.newPage();
  await other.goto(firstLink!);
  await other.getByRole("button", { name: "Cancel" }).click();
  await other.getByRole("dialog", { name: "Cancel this operation?" }).getByRole("button", { name: "Cancel operation" }).click();
  await expect(other.getByRole("status").getByText("Operation cancelled.")).toBeVisible();
  await other.close();

  // The live page shows one pending operation fewer, and that row left the table, on its own.
  await expect(pending).toHaveText(String(before - 1), { timeout: 15_000 });
  await expect(rows(page).locator(`a[href="${firstLink}"]`)).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  await expect(page.getByLabel("Status")).toHaveValue("pending");
});
