import { test, expect, signIn, hydrated, ENGINE, engineHeaders, clearFaults } from "./fixtures";
import type { APIRequestContext } from "@playwright/test";

// The start gate on the operation detail page: a retry is a start like a run. Blocked (the connector is
// offline: nothing queued, the next step said), deduped (the same change is already queued: a link to it),
// accepted (queued). The runs' own outcomes are in reconciliation.spec.ts.
const DIRECTORY = "00000000-0000-4000-8000-00000000c001";

async function setFaults(request: APIRequestContext, faults: { offline?: boolean; latency_ms?: number }) {
  const headers = await engineHeaders(request);
  const res = await request.put(`${ENGINE}/connectors/${DIRECTORY}/settings`, {
    headers,
    data: { offline: false, error_rate: 0, latency_ms: 0, ...faults },
  });
  expect(res.status(), await res.text()).toBe(200);
}

async function deadLetter(request: APIRequestContext) {
  const headers = await engineHeaders(request);
  const res = await request.get(`${ENGINE}/operations?connector_id=${DIRECTORY}&status=dead_letter&limit=1`, {
    headers,
  });
  const op = (await res.json()).operations[0];
  expect(op, "a dead letter of Corporate Directory in the demo").toBeTruthy();
  return op;
}

test.afterEach(async ({ request }) => clearFaults(request, "Corporate Directory"));

test("a retry on an offline connector is blocked with its next step; online again it is accepted", async ({
  page,
  request,
}) => {
  const op = await deadLetter(request);
  await setFaults(request, { offline: true });
  await signIn(page, `/connectors/operations/${op.id}`);
  await page.getByRole("button", { name: "Retry" }).click();
  const blocked = page.locator('[data-outcome="blocked"]');
  await expect(blocked).toContainText("Blocked: Corporate Directory cannot be reached");
  await expect(blocked).toContainText("Next step: bring the connector back online.");
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Status", { exact: true })).toContainText("Dead letter");

  await setFaults(request, { offline: false });
  await page.getByRole("button", { name: "Retry" }).click();
  await expect(page.locator('[data-outcome="accepted"]')).toContainText("Accepted: Operation queued for retry.");
});

test("a retry of a change already queued again is deduped and links to the queued one", async ({
  page,
  request,
}) => {
  const op = await deadLetter(request);
  // The integration queued the same change again; a slow directory keeps it in flight.
  await setFaults(request, { latency_ms: 10_000 });
  const headers = await engineHeaders(request);
  const twin = await request.post(`${ENGINE}/operations`, {
    headers,
    data: {
      connector_id: DIRECTORY,
      user_id: op.user_id,
      operation_type: op.operation_type,
      target_uid: op.target_uid,
      payload: op.payload,
    },
  });
  expect(twin.status(), await twin.text()).toBe(201);
  const twinId = (await twin.json()).id;

  await signIn(page, `/connectors/operations/${op.id}`);
  await page.getByRole("button", { name: "Retry" }).click();
  const deduped = page.locator('[data-outcome="deduped"]');
  await expect(deduped).toContainText("Already in progress:");
  await deduped.getByRole("link", { name: "Open the operation already doing this" }).click();
  await expect(page).toHaveURL(new RegExp(`/connectors/operations/${twinId}$`));
  await hydrated(page);
  // Leave nothing in flight for the next specs: the directory is fast again and the twin settles.
  await setFaults(request, {});
  await expect
    .poll(async () => (await (await request.get(`${ENGINE}/operations/${twinId}`, { headers })).json()).status, {
      timeout: 20_000,
    })
    .toMatch(/^(completed|dead_letter)$/);
});
