import { test, expect, signIn } from "./fixtures";

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
  await dialog.getByRole("button", { name: "Save settings" }).click();
  // The browser refuses an out-of-range number before anything is sent; the connector stays offline.
  await expect(row).toContainText("Offline");
  await dialog.getByLabel("Error rate (%)").fill("0");
  await dialog.getByLabel("Offline").uncheck();
  await dialog.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("status").getByText("Fault settings saved: the connector is active.")).toBeVisible();
  await expect(row).toContainText("Active");
});
