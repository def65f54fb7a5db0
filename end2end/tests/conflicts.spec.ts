import { test, expect, signIn, hydrated, settled, engineHeaders, ENGINE } from "./fixtures";
import type { APIRequestContext, Page } from "@playwright/test";
import { randomUUID } from "node:crypto";

// Scenario 10 as an admin does it: find a pending conflict, open it (both operations side by side), resolve it
// with an outcome and notes, and see the list say so. The conflicts are the spec's own: two updates of the same
// attribute of a fresh account on Cloud CRM, enqueued through the engine's API. Cloud CRM is offline in the demo
// (no spec brings it back), so the first waits for its system and the worker holds the second: nothing here
// touches a real account or another spec's data.

const CLOUD_CRM = "00000000-0000-4000-8000-00000000c003";

/** Enqueues two colliding updates and waits until the worker holds the second; answers both ids. */
async function collidingPair(request: APIRequestContext, tag: string) {
  const headers = await engineHeaders(request);
  const uid = `e2e.conflict.${tag}.${Date.now()}`;
  const laterUser = randomUUID();
  const enqueue = async (title: string, user: string) => {
    const res = await request.post(`${ENGINE}/operations`, {
      headers,
      data: {
        connector_id: CLOUD_CRM,
        user_id: user,
        operation_type: "update",
        target_uid: uid,
        payload: { title, department: "Sales" },
      },
    });
    expect(res.status(), await res.text()).toBe(201);
    return (await res.json()).id as string;
  };
  const earlier = await enqueue("First", randomUUID());
  const later = await enqueue("Second", laterUser);
  await expect
    .poll(async () => {
      const res = await request.get(`${ENGINE}/operations/conflicts?operation_id=${later}`, { headers });
      return (await res.json()).total;
    })
    .toBe(1);
  return { earlier, later, laterUser };
}

/** The conflicts list filtered to the conflict holding `operation`, through the filter bar. */
async function filterTo(page: Page, operation: string) {
  await page.getByLabel("Operation id").fill(operation);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(new RegExp(`operation_id=${operation}`));
  await settled(page);
}

const rows = (page: Page) => page.getByRole("table", { name: "Provisioning conflicts" }).locator("tbody tr");

test("an admin resolves a pending conflict from its page, and the list shows it resolved", async ({ page, request }) => {
  const { earlier, later } = await collidingPair(request, "detail");
  await signIn(page, "/connectors/operations");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Conflicts" }).click();
  await expect(page).toHaveURL(/\/connectors\/conflicts$/);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Conflicts", level: 1 })).toBeVisible();

  // Pending only: the filter applies at once and lives in the URL.
  await page.getByLabel("Status").selectOption("true");
  await expect(page).toHaveURL(/pending_only=true/);
  await settled(page);
  await expect(rows(page).first()).toBeVisible();
  for (const status of await rows(page).locator("td:nth-child(3)").allInnerTexts()) {
    expect(status.trim()).toBe("Pending");
  }
  await filterTo(page, later);
  await expect(rows(page)).toHaveCount(1);
  const row = rows(page).first();
  await expect(row).toContainText("title");
  await expect(row).toContainText("department");
  await row.getByRole("link", { name: "Concurrent update" }).click();

  // The conflict: type, attributes, and both operations with links to them.
  await expect(page).toHaveURL(/\/connectors\/conflicts\/[0-9a-f-]{36}$/);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Concurrent update conflict" })).toBeVisible();
  await expect(page.getByLabel("Conflict status")).toHaveText("Pending");
  const earlierCard = page.getByRole("region", { name: "Earlier operation" });
  const heldCard = page.getByRole("region", { name: "Held operation" });
  await expect(earlierCard.getByRole("link", { name: "Open the earlier operation" })).toHaveAttribute("href", `/connectors/operations/${earlier}`);
  await expect(heldCard.getByRole("link", { name: "Open the held operation" })).toHaveAttribute("href", `/connectors/operations/${later}`);
  await expect(heldCard).toContainText("Pending");

  // The held operation's own page says why it waits, and leads back here.
  const conflictUrl = page.url();
  await heldCard.getByRole("link", { name: "Open the held operation" }).click();
  await hydrated(page);
  const held = page.getByRole("status").filter({ hasText: "Held by a conflict" });
  await expect(held).toContainText("title");
  await held.getByRole("link", { name: "Resolve the conflict" }).click();
  await expect(page).toHaveURL(conflictUrl);
  await hydrated(page);

  // Resolve it: merged, with notes.
  await page.getByRole("button", { name: "Resolve", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Resolve the concurrent update conflict" });
  // It opens in the middle of the window, not pinned to its top-left corner.
  await expect(dialog).toBeVisible();
  const box = (await dialog.boundingBox())!;
  const view = page.viewportSize()!;
  expect(Math.abs(box.x + box.width / 2 - view.width / 2)).toBeLessThan(4);
  expect(Math.abs(box.y + box.height / 2 - view.height / 2)).toBeLessThan(4);
  await dialog.getByLabel("Outcome").selectOption("merged");
  await dialog.getByLabel("Notes").fill("Kept the second title; the department was the same.");
  await dialog.getByRole("button", { name: "Resolve conflict" }).click();
  // The sentence says what the held operation is once read back: queued, or already taken by the worker.
  await expect(
    page
      .getByRole("status")
      .getByText(/^Conflict resolved as merged: the held operation (is back in the queue|is running|waits for its system to come back|has run and .+)\.$/),
  ).toBeVisible();
  await expect(dialog).toBeHidden();
  await expect(page.getByLabel("Conflict status")).toHaveText("Resolved: merged");
  await expect(page.getByText("Kept the second title; the department was the same.")).toBeVisible();
  // Resolving again is not offered.
  await expect(page.getByRole("button", { name: "Resolve", exact: true })).toHaveCount(0);

  // Back in the list, it reads resolved and offers nothing more.
  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Conflicts" }).click();
  await expect(page).toHaveURL(/\/connectors\/conflicts$/);
  await hydrated(page);
  await filterTo(page, later);
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText("Resolved: merged");
  await expect(rows(page).first().getByRole("button", { name: "Resolve" })).toHaveCount(0);
});

test("a conflict resolved from the list updates its row in place", async ({ page, request }) => {
  const { later } = await collidingPair(request, "list");
  await signIn(page, `/connectors/conflicts?operation_id=${later}`);
  const row = rows(page).first();
  await expect(row).toContainText("Pending");
  await row.getByRole("button", { name: "Resolve" }).click();
  const dialog = page.getByRole("dialog", { name: "Resolve the concurrent update conflict" });
  await dialog.getByLabel("Outcome").selectOption("rejected");
  await dialog.getByLabel("Notes").fill("Not wanted.");
  await dialog.getByRole("button", { name: "Resolve conflict" }).click();
  await expect(page.getByRole("status").getByText("Conflict resolved as rejected: the held operation was cancelled.")).toBeVisible();
  await expect(rows(page).first()).toContainText("Resolved: rejected");
  await expect(rows(page).first().getByRole("button", { name: "Resolve" })).toHaveCount(0);
  await expect(page).toHaveURL(new RegExp(`operation_id=${later}`));
});

test("the queue marks an operation a conflict holds, and leads to the conflict", async ({ page, request }) => {
  const { later, laterUser } = await collidingPair(request, "queue");
  await signIn(page, `/connectors/operations?user_id=${laterUser}`);
  const row = page.getByRole("table", { name: "Provisioning operations" }).locator("tbody tr");
  await expect(row).toHaveCount(1);
  await row.getByRole("link", { name: "Held by a conflict" }).click();
  await expect(page).toHaveURL(/\/connectors\/conflicts\/[0-9a-f-]{36}$/);
  await hydrated(page);
  await expect(page.getByRole("region", { name: "Held operation" }).getByRole("link", { name: "Open the held operation" }))
    .toHaveAttribute("href", `/connectors/operations/${later}`);
});
