import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";

export { expect };

// Demo data seeded by the embedded engine (`DEMO=1`): see engine/src/demo.
export const TENANT = "00000000-0000-4000-8000-00000000d001";
export const ADMIN = { email: "admin@demo.local", password: "demo-admin-pass" };
export const VIEWER = { email: "viewer@demo.local", password: "demo-viewer-pass" };

/** Every uncaught page error and console error of a test's page; the test fails if any is left unexplained. */
export class PageErrors {
  private seen: string[] = [];
  private allowed: RegExp[] = [];

  constructor(page: Page) {
    page.on("pageerror", (e) => this.seen.push(`page error: ${e.stack ?? e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") this.seen.push(`console error: ${m.text()} [${m.location().url}]`);
    });
  }

  /** Declares an error the test provokes on purpose (the browser logs every 4xx page load, for example). */
  allow(pattern: RegExp) {
    this.allowed.push(pattern);
  }

  unexpected(): string[] {
    return this.seen.filter((e) => !this.allowed.some((p) => p.test(e)));
  }
}

/**
 * The suite's `test`: like Playwright's, plus an automatic check that the page logged no uncaught error and no
 * console error (a hydration panic, a refused script, a failed request nobody asked for).
 */
export const test = base.extend<{ pageErrors: PageErrors }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors = new PageErrors(page);
      await use(errors);
      expect(errors.unexpected(), "uncaught page errors and console errors during the test").toEqual([]);
    },
    { auto: true },
  ],
});

/** Waits until the WASM has hydrated the page (the app marks `<body data-hydrated>`). */
export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Fills and submits the login form on the current page. */
export async function fillLogin(page: Page, who: { email: string; password: string } = ADMIN) {
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByLabel("Tenant").fill(TENANT);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Signs in as the demo admin through the hydrated login page and lands, hydrated, on `next`. */
export async function signIn(page: Page, next = "/connectors/operations") {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await hydrated(page);
  await fillLogin(page);
  await expect(page).toHaveURL(new RegExp(`${next.replace(/[?]/g, "\\?")}$`));
  await hydrated(page);
}

/** Waits until no live region of the page is re-rendering (after a filter change applied in place). */
export async function settled(page: Page) {
  await expect(page.locator('[data-live-region][aria-busy="true"]')).toHaveCount(0);
}

/**
 * The embedded engine's own API, beside the console (the test command fixes its address with ENGINE_BIND):
 * for data a spec needs that no console page creates, and for putting back what a spec changed even when it
 * failed half-way. Specs share one seeded database: each restores what it changes or uses data of its own.
 */
export const ENGINE = process.env.ENGINE_URL ?? "http://127.0.0.1:3100";

/** Bearer and tenant headers of the demo admin, signed in at the engine. */
export async function engineHeaders(request: APIRequestContext): Promise<Record<string, string>> {
  const res = await request.post(`${ENGINE}/auth/login`, {
    headers: { "X-Tenant-ID": TENANT },
    data: { email: ADMIN.email, password: ADMIN.password },
  });
  expect(res.status(), await res.text()).toBe(200);
  return { Authorization: `Bearer ${(await res.json()).access_token}`, "X-Tenant-ID": TENANT };
}

/** The id of the demo connector called `name`. */
export async function connectorId(request: APIRequestContext, headers: Record<string, string>, name: string) {
  const body = await (await request.get(`${ENGINE}/connectors`, { headers })).json();
  const list: { id: string; name: string }[] = Array.isArray(body) ? body : body.connectors;
  const found = list.find((c) => c.name === name);
  expect(found, `connector ${name}`).toBeTruthy();
  return found!.id;
}

/** Puts a connector's injected faults back to none (online, no errors, no latency). */
export async function clearFaults(request: APIRequestContext, name: string) {
  const headers = await engineHeaders(request);
  const id = await connectorId(request, headers, name);
  const res = await request.put(`${ENGINE}/connectors/${id}/settings`, {
    headers,
    data: { offline: false, error_rate: 0, latency_ms: 0 },
  });
  expect(res.status(), await res.text()).toBe(200);
}
