import { test, expect, signIn, settled, engineHeaders, ENGINE } from "./fixtures";

// Scenarios 8 and 9 as an admin does them: a connector's reconciliation schedule (its form follows the
// frequency, checks a cron expression live and shows the next five runs), enable/disable, delete with a
// confirmation, the global schedules view; and the discrepancy trend chart with its filters. The schedule test
// works on Legacy HR (a disabled connector: whatever its schedule says, nothing starts) and puts the demo's
// schedule back afterwards, whatever happens; the trend test only reads.

const DIRECTORY = "00000000-0000-4000-8000-00000000c001";
const LEGACY_HR = "00000000-0000-4000-8000-00000000c002";
const CLOUD_CRM = "00000000-0000-4000-8000-00000000c003";
const SCHEDULE = `/connectors/${LEGACY_HR}/reconciliation/schedule`;

test.afterAll(async ({ request }) => {
  const headers = await engineHeaders(request);
  const res = await request.put(`${ENGINE}${SCHEDULE}`, {
    headers,
    data: { mode: "full", frequency: "monthly", day_of_month: 31, hour_of_day: 4, enabled: false },
  });
  expect(res.status(), await res.text()).toBe(200);
});

test("a weekly schedule is set with its next runs shown, toggled, and deleted after a confirmation", async ({ page, pageErrors }) => {
  // The invalid save below is refused with a 400, which the browser logs.
  pageErrors.allow(/status of 400 .*\/api\/save_schedule/);
  await signIn(page, SCHEDULE);
  await expect(page.getByRole("heading", { name: "Reconciliation: Legacy HR" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Schedule", exact: true })).toHaveAttribute("aria-current", "page");
  const state = page.getByRole("region", { name: "Current schedule" });
  await expect(state).toContainText("monthly on day 31 (or the month's last day) at 04:00 UTC");
  await expect(state).toContainText("Disabled");

  // The fields follow the frequency.
  const form = page.getByRole("form", { name: "Schedule" });
  await form.getByLabel("Frequency").selectOption("weekly");
  await expect(form.getByRole("group", { name: "Weekday" })).toBeVisible();
  await expect(form.getByLabel("Day of month")).toBeHidden();
  await expect(form.getByLabel("Cron expression (UTC)")).toBeHidden();
  await form.getByRole("radio", { name: "Sunday" }).check();
  await form.getByLabel("Hour (UTC)").selectOption("14");
  const upcoming = page.getByRole("region", { name: "Next five runs" });
  await expect(upcoming.getByRole("listitem")).toHaveCount(5);
  await expect(upcoming.getByRole("listitem").first()).toContainText(/^Sun \d{4}-\d{2}-\d{2} 14:00 UTC$/);

  // A cron expression is checked as it is typed.
  await form.getByLabel("Frequency").selectOption("cron");
  await expect(form.getByRole("group", { name: "Weekday" })).toBeHidden();
  await form.getByLabel("Cron expression (UTC)").fill("0 25 * * *");
  await expect(upcoming.getByRole("alert")).toContainText("cron_expression");
  await form.getByLabel("Cron expression (UTC)").fill("30 4 * * 1-5");
  await expect(upcoming.getByRole("listitem")).toHaveCount(5);
  await expect(upcoming.getByRole("listitem").first()).toContainText(/^(Mon|Tue|Wed|Thu|Fri) .* 04:30 UTC$/);
  // Saving an invalid one is refused, naming the field, and changes nothing.
  await form.getByLabel("Cron expression (UTC)").fill("0 2 * *");
  await form.getByRole("button", { name: "Save schedule" }).click();
  // The form's own problem line shows, below the live check's answer (which says the same).
  await expect(form.getByRole("alert")).toHaveCount(2);
  await expect(form.getByRole("alert").last()).toContainText("cron_expression must have five fields");
  await expect(state).toContainText("monthly on day 31");

  // Weekly on Sunday at 14:00, saved: it stays disabled as it was.
  await form.getByLabel("Frequency").selectOption("weekly");
  await form.getByRole("button", { name: "Save schedule" }).click();
  await expect(page.getByRole("status").getByText(/Schedule saved: every Sunday at 14:00 UTC\./)).toBeVisible();
  await settled(page);
  await expect(state).toContainText("every Sunday at 14:00 UTC");

  // Enabled: it has a next run, a Sunday at 14:00; disabled again: none.
  await state.getByRole("button", { name: "Enable schedule" }).click();
  await expect(page.getByRole("status").getByText("Schedule enabled.")).toBeVisible();
  await expect(state).toContainText("Enabled");
  await expect(state.locator("time").first()).toHaveAttribute("datetime", /T14:00:00/);
  await state.getByRole("button", { name: "Disable schedule" }).click();
  await expect(page.getByRole("status").getByText(/Schedule disabled/)).toBeVisible();
  await expect(state).toContainText("Disabled");

  // The global view lists it with the others.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Schedules" }).click();
  await expect(page).toHaveURL(/\/connectors\/reconciliation\/schedules$/);
  const table = page.getByRole("table", { name: "Reconciliation schedules" });
  const hr = table.getByRole("row").filter({ hasText: "Legacy HR" });
  await expect(hr).toContainText("every Sunday at 14:00 UTC");
  await expect(hr).toContainText("No");
  const cd = table.getByRole("row").filter({ hasText: "Corporate Directory" });
  await expect(cd).toContainText("every day at 02:00 UTC");
  await expect(cd).toContainText("Full");
  await expect(table.getByRole("row").filter({ hasText: "Cloud CRM" })).toContainText("Refused: the connector was offline");
  await hr.getByRole("link", { name: "Legacy HR" }).click();
  await expect(page).toHaveURL(new RegExp(`${SCHEDULE}$`));

  // Delete: asked first; kept when the admin says so, gone when confirmed.
  await state.getByRole("button", { name: "Delete schedule" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this schedule?" });
  await dialog.getByRole("button", { name: "Keep it" }).click();
  await expect(dialog).toBeHidden();
  await expect(state).toContainText("every Sunday at 14:00 UTC");
  await state.getByRole("button", { name: "Delete schedule" }).click();
  await dialog.getByRole("button", { name: "Delete schedule" }).click();
  await expect(page.getByRole("status").getByText(/Schedule deleted/)).toBeVisible();
  await expect(state).toContainText("This connector has no schedule");
});

test("the trend chart shows what the runs found, filtered by connector and date range", async ({ page }) => {
  await signIn(page, "/connectors/reconciliation/trend");
  await expect(page.getByRole("heading", { name: "Discrepancy trend" })).toBeVisible();
  const chart = page.getByRole("img", { name: "Discrepancy trend" });
  await expect(chart).toBeVisible();
  await expect(page.getByRole("list", { name: "Legend" }).getByRole("listitem")).toHaveCount(6);
  await page.getByText("Show the numbers as a table").click();
  const table = page.getByRole("table", { name: "Discrepancies found per day" });
  await expect(table.locator("tbody tr")).toHaveCount(30);

  // Cloud CRM has never been reconciled: the empty state.
  await page.getByLabel("Connector").selectOption(CLOUD_CRM);
  await expect(page).toHaveURL(new RegExp(`connector_id=${CLOUD_CRM}`));
  await settled(page);
  await expect(page.getByText("No discrepancies were found in this range.")).toBeVisible();

  // Corporate Directory over the last week: seven days, its runs' discrepancies.
  await page.getByLabel("Connector").selectOption(DIRECTORY);
  await expect(page).toHaveURL(new RegExp(`connector_id=${DIRECTORY}`));
  await settled(page);
  const today = new Date();
  const weekAgo = new Date(today.getTime() - 6 * 86_400_000);
  const day = (d: Date) => d.toISOString().slice(0, 10);
  await page.getByLabel("From", { exact: true }).fill(day(weekAgo));
  await page.getByLabel("To", { exact: true }).fill(day(today));
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(new RegExp(`from=${day(weekAgo)}`));
  await settled(page);
  await expect(chart).toBeVisible();
  await page.getByText("Show the numbers as a table").click();
  await expect(table.locator("tbody tr")).toHaveCount(7);
  const totals = await table.locator("tbody tr td:last-child").allInnerTexts();
  expect(totals.map(Number).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
});
