import { test, expect, hydrated, fillLogin, settled, ADMIN, VIEWER, TENANT } from "./fixtures";

test("admin signs in, sees the queue, filters by status, keeps the filter on reload, signs out", async ({ page, context }) => {
  // Signed out: the console sends us to the login page and remembers where we were going.
  await page.goto("/connectors/operations?status=pending");
  await expect(page).toHaveURL(/\/login\?next=/);
  await hydrated(page);
  await fillLogin(page, ADMIN);
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

  // Picking a status applies it at once (no "Apply filters"), and the filter bar keeps the value.
  await page.getByLabel("Status").selectOption("failed");
  await expect(page).toHaveURL(/status=failed/);
  await settled(page);
  await expect(page.getByLabel("Status")).toHaveValue("failed");
  await expect(rows.first()).toBeVisible();
  const statuses = await rows.locator("[data-status]").evaluateAll((els) => els.map((e) => e.getAttribute("data-status")));
  expect(statuses.length).toBeGreaterThan(0);
  expect(new Set(statuses)).toEqual(new Set(["failed"]));

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
});

test("a non-admin gets the 403 page, not data", async ({ page, pageErrors }) => {
  pageErrors.allow(/status of 403/);
  await page.goto("/login");
  await hydrated(page);
  await fillLogin(page, VIEWER);
  await expect(page.getByRole("heading", { name: /403/ })).toBeVisible();
  await expect(page.getByRole("table")).toHaveCount(0);
  const response = await page.goto("/connectors/operations");
  expect(response?.status()).toBe(403);
});

test("wrong password gives a clear error and no session", async ({ page, context }) => {
  await page.goto("/login");
  await hydrated(page);
  await fillLogin(page, { email: ADMIN.email, password: "wrong-password" });
  await expect(page.getByText(/incorrect|invalid/i)).toBeVisible();
  const session = ["console_access", "console_refresh"];
  expect((await context.cookies()).filter((c) => session.includes(c.name))).toEqual([]);
  // What was typed is kept for the next try, but the password.
  await expect(page.getByLabel("Email")).toHaveValue(ADMIN.email);
  await expect(page.getByLabel("Tenant")).toHaveValue(TENANT);
  await expect(page.getByLabel("Password")).toHaveValue("");
});

test("a fast user signs in before the WASM has loaded: a plain form post lands on the page, styled and hydrated", async ({ page }) => {
  // Hold the WASM back until the form has been sent, as on a slow link.
  let hold = true;
  const held: Array<() => Promise<void>> = [];
  await page.route("**/pkg/*.wasm", async (route) => {
    if (hold) held.push(() => route.continue().catch(() => undefined));
    else await route.continue();
  });
  await page.goto("/login?next=%2Fconnectors%2Foperations%3Fstatus%3Dfailed");
  await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByLabel("Tenant").fill(TENANT);
  await page.getByLabel("Tenant").press("Enter");
  await expect(page).toHaveURL(/\/connectors\/operations\?status=failed$/);
  hold = false;
  for (const release of held) await release();

  await expect(page.getByRole("heading", { name: "Operations" })).toBeVisible();
  await hydrated(page);
  // Styled: the stylesheet was allowed and applied (the body has Tailwind's background, not the default).
  expect(await page.evaluate(() => document.styleSheets.length)).toBeGreaterThan(0);
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).not.toBe("rgba(0, 0, 0, 0)");
  const statuses = await page
    .getByRole("table", { name: "Provisioning operations" })
    .locator("[data-status]")
    .evaluateAll((els) => els.map((e) => e.getAttribute("data-status")));
  expect(new Set(statuses)).toEqual(new Set(["failed"]));
});

test("every page after a sign-in is delivered under the page's own CSP, never the strict fallback", async ({ page, pageErrors }) => {
  pageErrors.allow(/ERR_FAILED|Failed to fetch/);
  const documents: Array<{ url: string; status: number; csp: string }> = [];
  page.on("response", async (response) => {
    if (response.request().resourceType() !== "document") return;
    const headers = await response.allHeaders();
    documents.push({ url: response.url(), status: response.status(), csp: headers["content-security-policy"] ?? "" });
  });
  let holdWasm = false;
  await page.route("**/pkg/*.wasm", (route) => (holdWasm ? route.abort() : route.continue()));
  for (let i = 0; i < 6; i++) {
    // Alternate the script path (hydrated form) and the plain form post (no WASM at all).
    holdWasm = i % 2 === 1;
    await page.goto("/login?next=%2Fconnectors%2Foperations");
    if (!holdWasm) await hydrated(page);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByLabel("Tenant").fill(TENANT);
    await page.getByLabel("Tenant").press("Enter");
    await expect(page).toHaveURL(/\/connectors\/operations$/);
    await expect(page.getByRole("heading", { name: "Operations" })).toBeVisible();
    holdWasm = false;
    await page.goto("/connectors/operations/dlq");
    await hydrated(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
  }
  const pages = documents.filter((d) => d.status === 200);
  expect(pages.filter((d) => d.url.includes("/connectors/")).length).toBeGreaterThanOrEqual(9);
  for (const d of pages) expect(d.csp, d.url).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'nonce-[\w-]+'/);
});
