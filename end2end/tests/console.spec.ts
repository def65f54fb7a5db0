import { test, expect, type Page } from "@playwright/test";

// Demo data seeded by the embedded engine (`DEMO=1`): see engine/src/demo.
const TENANT = "00000000-0000-4000-8000-00000000d001";
const ADMIN = { email: "admin@demo.local", password: "demo-admin-pass" };
const VIEWER = { email: "viewer@demo.local", password: "demo-viewer-pass" };

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${m.text()} [${m.location().url}]`);
  });
  return errors;
}

async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

async function signIn(page: Page, who: { email: string; password: string }) {
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByLabel("Tenant").fill(TENANT);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("admin signs in, sees the queue, filters by status, keeps the filter on reload, signs out", async ({ page, context }) => {
  const errors = watchErrors(page);

  // Signed out: the console sends us to the login page and remembers where we were going.
  await page.goto("/connectors/operations?status=pending");
  await expect(page).toHaveURL(/\/login\?next=/);
  await hydrated(page);
  await signIn(page, ADMIN);
  await expect(page).toHaveURL(/\/connectors\/operations\?status=pending$/);

  await page.goto("/connectors/operations");
  await expect(page.getByRole("heading", { name: "Operations" })).toBeVisible();
  await hydrated(page);

  // Statistics cards, with numbers from the engine.
  const stats = page.getByRole("list", { name: "Queue statistics" });
  for (const label of ["Pending", "In progress", "Completed", "Failed", "Dead letter", "Awaiting system", "Average time"]) {
    await expect(stats.getByText(label, { exact: true })).toBeVisible();
  }
  await expect(stats.locator('[data-stat="Failed"]')).toHaveText(/^\d+$/);

  // Seeded rows, a full first page, and a total.
  const rows = page.getByRole("table", { name: "Provisioning operations" }).locator("tbody tr");
  await expect(rows).toHaveCount(20);
  await expect(page.getByText(/Showing 1–20 of \d+/)).toBeVisible();

  // Filter by status without a full page load.
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await page.getByLabel("Status").selectOption("failed");
  await expect(page).toHaveURL(/status=failed/);
  await expect(rows.first()).toBeVisible();
  const statuses = await rows.locator("[data-status]").evaluateAll((els) => els.map((e) => e.getAttribute("data-status")));
  expect(statuses.length).toBeGreaterThan(0);
  expect(new Set(statuses)).toEqual(new Set(["failed"]));
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  // Reload: the filter is in the URL, so it stays.
  await page.reload();
  await expect(page.getByLabel("Status")).toHaveValue("failed");
  const again = await rows.locator("[data-status]").evaluateAll((els) => els.map((e) => e.getAttribute("data-status")));
  expect(new Set(again)).toEqual(new Set(["failed"]));

  // The tokens live in HttpOnly cookies and never in the page.
  const cookies = await context.cookies();
  const access = cookies.find((c) => c.name === "console_access");
  expect(access?.httpOnly).toBe(true);
  expect(cookies.find((c) => c.name === "console_refresh")?.httpOnly).toBe(true);
  expect(await page.content()).not.toContain(access!.value);
  expect(await page.evaluate(() => document.cookie)).not.toContain("console_");

  // Sign out.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/connectors/operations");
  await expect(page).toHaveURL(/\/login\?next=/);

  expect(errors).toEqual([]);
});

test("a non-admin gets the 403 page, not data", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await signIn(page, VIEWER);
  await expect(page.getByRole("heading", { name: /403/ })).toBeVisible();
  await expect(page.getByRole("table")).toHaveCount(0);
  const response = await page.goto("/connectors/operations");
  expect(response?.status()).toBe(403);
});

test("wrong password gives a clear error and no session", async ({ page, context }) => {
  await page.goto("/login");
  await hydrated(page);
  await signIn(page, { email: ADMIN.email, password: "wrong-password" });
  await expect(page.getByText(/incorrect|invalid/i)).toBeVisible();
  expect((await context.cookies()).filter((c) => c.name.startsWith("console_"))).toEqual([]);
});
