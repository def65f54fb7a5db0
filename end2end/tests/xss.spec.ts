import { test, expect, signIn, ENGINE, engineHeaders, connectorId } from "./fixtures";
import type { APIRequestContext, Page } from "@playwright/test";

// Data an attacker controls (a payload, a target uid, the error a target system answers with) is shown as
// text on every page, never as markup. The operation is queued through the embedded engine's own API (the
// test command fixes its address with ENGINE_BIND), as an integration pushing work would, and fails for real
// in the worker: the directory has no such account, and its error message repeats the hostile uid.
// No double quotes inside: the payload view shows JSON strings, where they would be escaped.
const UID = `<img src=x onerror=window.__xss=1>`;
const PAYLOAD_TEXT = `</script><script>window.__xss=2</script>`;
const PAYLOAD_HTML = `<svg onload=window.__xss=3></svg>`;

/** Queues the hostile update and waits until the worker has dead-lettered it; answers its id and user. */
async function hostileOperation(request: APIRequestContext): Promise<{ id: string; userId: string }> {
  const headers = await engineHeaders(request);
  const directory = await connectorId(request, headers, "Corporate Directory");
  const userId = crypto.randomUUID();
  const created = await request.post(`${ENGINE}/operations`, {
    headers,
    data: {
      connector_id: directory,
      user_id: userId,
      operation_type: "update",
      target_uid: UID,
      payload: { displayName: PAYLOAD_HTML, note: PAYLOAD_TEXT },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const { id } = await created.json();
  await expect
    .poll(async () => (await (await request.get(`${ENGINE}/operations/${id}`, { headers })).json()).status, {
      timeout: 20_000,
    })
    .toBe("dead_letter");
  return { id, userId };
}

async function expectNothingRan(page: Page) {
  expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
  await expect(page.locator('img[src="x"], svg[onload], script:not([src]):not([nonce])')).toHaveCount(0);
}

test("hostile payload, target uid and error message render as text on the list and the detail", async ({
  page,
  request,
}) => {
  const { id, userId } = await hostileOperation(request);

  await signIn(page, `/connectors/operations?user_id=${userId}`);
  const table = page.getByRole("table", { name: "Provisioning operations" });
  await expect(table.locator("tbody tr")).toHaveCount(1);
  await expect(table.getByText(UID).first()).toBeVisible();
  await expectNothingRan(page);

  await page.goto(`/connectors/operations/${id}`);
  await expect(page.getByText(UID).first()).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: "Last error" })).toContainText(`has no account \`${UID}\``);
  await page.getByText("Payload").first().scrollIntoViewIfNeeded();
  await expect(page.getByText(PAYLOAD_HTML, { exact: false }).first()).toBeAttached();
  await expect(page.getByText(PAYLOAD_TEXT, { exact: false }).first()).toBeAttached();
  await expectNothingRan(page);
});
