import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test, expect, TENANT, ADMIN } from "./fixtures";

// What a browser downloads for its first visit to the operations page (empty cache): the HTML and every
// WASM, JS and CSS file, as they arrive on the wire (compressed, with their headers). The budget and the
// recorded baseline live in weight-budget.json; a page added later may grow this by at most 5 KB.
const budget = JSON.parse(readFileSync(join(__dirname, "..", "weight-budget.json"), "utf8")) as {
  budget_bytes: number;
  baseline_bytes: number;
  max_growth_bytes: number;
};

test("the first load of the operations page stays within its weight budget", async ({ browser, baseURL }) => {
  const context = await browser.newContext();
  const login = await context.request.post("/api/login", {
    form: { email: ADMIN.email, password: ADMIN.password, tenant: TENANT },
    headers: { Origin: baseURL! },
  });
  expect(login.status()).toBe(200);

  const page = await context.newPage();
  // Chromium's own accounting of what crossed the wire (compressed bodies and headers).
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  const seen = new Map<string, { url: string; type: string; encoding: string; cache: string; bytes: number }>();
  cdp.on("Network.responseReceived", (e: any) => {
    const headers = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    seen.set(e.requestId, {
      url: e.response.url,
      type: e.type,
      encoding: String(headers["content-encoding"] ?? "identity"),
      cache: String(headers["cache-control"] ?? ""),
      bytes: 0,
    });
  });
  cdp.on("Network.loadingFinished", (e: any) => {
    const f = seen.get(e.requestId);
    if (f) f.bytes = e.encodedDataLength;
  });
  await page.goto("/connectors/operations");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.waitForLoadState("networkidle");
  const files = [...seen.values()].filter((f) => /\.(wasm|js|css)$/.test(new URL(f.url).pathname) || f.type === "Document");
  const total = files.reduce((sum, f) => sum + f.bytes, 0);
  console.log(
    files.map((f) => `${f.type.padEnd(10)} ${String(f.bytes).padStart(8)} B  ${f.encoding.padEnd(8)} ${new URL(f.url).pathname}`).join("\n") +
      `\ntotal ${total} B (budget ${budget.budget_bytes} B, baseline ${budget.baseline_bytes} B)`,
  );

  // Served compressed (precompressed at build time), under content-hashed names cached for a year.
  for (const f of files.filter((f) => /\.(wasm|js|css)$/.test(new URL(f.url).pathname))) {
    expect(f.encoding, f.url).toMatch(/^(br|gzip)$/);
    expect(f.cache, f.url).toBe("public, max-age=31536000, immutable");
  }
  expect(files.find((f) => f.type === "Document")?.cache).toBe("no-store");
  expect(files.some((f) => f.url.endsWith(".wasm"))).toBe(true);
  expect(total).toBeLessThanOrEqual(budget.budget_bytes);
  expect(total).toBeLessThanOrEqual(budget.baseline_bytes + budget.max_growth_bytes);
  await context.close();
});
