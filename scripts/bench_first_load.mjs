// First load of the operations page as a browser on a slow link sees it: headless Chromium, network
// throttled (10 Mbit/s, 40 ms RTT), CPU slowed 4x, empty cache each run. Prints bytes on the wire,
// first contentful paint, time until interactive (islands hydrated), and a filter change's time to new rows.
//
// Usage: node scripts/bench_first_load.mjs http://127.0.0.1:3100 [runs]
// Needs a running console with demo data (scripts/bench.sh starts one) and end2end's Playwright.
import { createRequire } from "node:module";

const require = createRequire(new URL("../end2end/package.json", import.meta.url));
const { chromium } = require("@playwright/test");

const base = process.argv[2] ?? "http://127.0.0.1:3100";
const runs = Number(process.argv[3] ?? 5);
const TENANT = "00000000-0000-4000-8000-00000000d001";
const PAGE = "/connectors/operations";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function once(browser) {
  const context = await browser.newContext({ baseURL: base });
  const login = await context.request.post("/api/login", {
    form: { email: "admin@demo.local", password: "demo-admin-pass", tenant: TENANT, next: PAGE },
    headers: { Origin: base },
    maxRedirects: 0,
  });
  if (login.status() >= 400) throw new Error(`login failed: ${login.status()}`);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 40,
    downloadThroughput: (10 * 1024 * 1024) / 8,
    uploadThroughput: (10 * 1024 * 1024) / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  let bytes = 0;
  cdp.on("Network.loadingFinished", (e) => (bytes += e.encodedDataLength));

  await page.goto(PAGE, { waitUntil: "load" });
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 60_000 });
  const interactive = await page.evaluate(() => performance.now());
  const fcp = await page.evaluate(
    () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN,
  );
  const firstLoadBytes = bytes;

  // A filter change, as an admin makes it, with the cache warm (one load to fill it first).
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
  await page.reload();
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 60_000 });
  const filterTo = async (status) => {
    const started = Date.now();
    await page.getByLabel("Status").selectOption(status);
    await page.waitForURL(new RegExp(`status=${status}`), { waitUntil: "commit" });
    await page.waitForFunction((status) => {
      const cells = [...document.querySelectorAll("table [data-status]")];
      return cells.length > 0 && cells.every((c) => c.getAttribute("data-status") === status);
    }, status);
    const elapsed = Date.now() - started;
    await page.waitForSelector("body[data-hydrated=true]", { timeout: 60_000 });
    return elapsed;
  };
  const filter = await filterTo("failed");
  // The same on loopback with a normal CPU: what an admin next to the server sees.
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
  const filterLoopback = await filterTo("completed");
  await context.close();
  return { firstLoadBytes, fcp, interactive, filter, filterLoopback };
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const results = [];
for (let i = 0; i < runs; i++) results.push(await once(browser));
await browser.close();

const pick = (k) => results.map((r) => r[k]);
console.log(`first load of ${PAGE}, ${runs} runs, 10 Mbit/s, 40 ms RTT, CPU 4x slower (median):`);
console.log(`  bytes on the wire        ${(median(pick("firstLoadBytes")) / 1024).toFixed(1)} KB`);
console.log(`  first contentful paint   ${median(pick("fcp")).toFixed(0)} ms`);
console.log(`  interactive (hydrated)   ${median(pick("interactive")).toFixed(0)} ms`);
console.log(`  filter change -> rows    ${median(pick("filter")).toFixed(0)} ms (warm cache, same throttling)`);
console.log(`  filter change -> rows    ${median(pick("filterLoopback")).toFixed(0)} ms (warm cache, loopback, CPU 1x)`);
