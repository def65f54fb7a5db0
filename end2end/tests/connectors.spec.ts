import { test, expect, signIn, clearFaults } from "./fixtures";

// Other specs need Corporate Directory online: put it back even when this one fails half-way.
test.afterEach(async ({ request }) => clearFaults(request, "Corporate Directory"));

test("an admin takes a directory offline and back through fault injection", async ({ page }) => {
  await signIn(page, "/connectors");

  const row = page.getByRole("row").filter({ hasText: "Corporate Directory" });
  await expect(row).toContainText("Active");

  await row.getByRole("button", { name: "Fault injection for Corporate Directory" }).click();
  const dialog = page.getByRole("dialog", { name: "Fault injection: Corporate Directory" });
  await dialog.getByLabel("Offline").check();
  await dialog.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("status").getByText("Fault settings saved: the connector is offline.")).toBeVisible();
  await expect(row).toContainText("Offline");

  await row.getByRole("button", { name: "Fault injection for Corporate Directory" }).click();
  await expect(dialog.getByLabel("Offline")).toBeChecked();
  await dialog.getByLabel("Error rate (%)").fill("150");
  const saves: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().includes("/api/update_connector_settings")) saves.push(r.url());
  });
  await dialog.getByRole("button", { name: "Save settings" }).click();
  // The browser refuses an out-of-range number before anything is sent: it says why, nothing leaves.
  const message = await dialog.getByLabel("Error rate (%)").evaluate((el) => (el as HTMLInputElement).validationMessage);
  expect(message).not.toBe("");
  await expect(dialog).toBeVisible();
  expect(saves).toEqual([]);
  await expect(row).toContainText("Offline");
  await dialog.getByLabel("Error rate (%)").fill("0");
  await dialog.getByLabel("Offline").uncheck();
  await dialog.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("status").getByText("Fault settings saved: the connector is active.")).toBeVisible();
  await expect(row).toContainText("Active");
});
