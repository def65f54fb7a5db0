//! Reconciliation schedules and the discrepancy trend: the schedules table, a connector's schedule (its state,
//! the form whose fields follow the frequency, enable/disable and delete), the upcoming runs, and the trend as
//! a server-rendered SVG stacked-bar chart with its data table.
//!
//! The form's fields follow the frequency with CSS alone (`.schedule-form` rules in `style/main.css`: `:has()`
//! on the chosen option; where a browser lacks it, every field shows). Its live check is a command form's `data-live` (see `commands`): the server answers
//! the next five runs, or what is wrong, computed by the shared rule.

use chrono::{DateTime, Utc};
use dto::{
    enums::{DiscrepancyType, ReconciliationMode, ScheduleFrequency},
    ConnectorId, ReconciliationSchedule, Trend, WEEKDAYS,
};
use leptos::prelude::*;

use crate::components::{
    commands::{CommandForm, Hidden},
    common::Timestamp,
    dialog::{BUTTON, PRIMARY},
    reconciliation::ConfirmDialog,
};
use crate::error::AppError;

const SELECT: &str = "rounded border border-slate-300 px-2 py-1";
const CARD: &str = "rounded-lg border border-slate-200 bg-white p-4 text-sm";

/// What the start gate answered when a schedule last fired, for people.
pub fn outcome_text(outcome: &str) -> String {
    match outcome {
        "accepted" => "Started".to_owned(),
        "deduped" => "Skipped: the same run was already active".to_owned(),
        "scope_busy" => "Skipped: another run held the connector".to_owned(),
        "connector_not_found" => "Skipped: the connector is gone".to_owned(),
        other => match other.strip_prefix("blocked:") {
            Some("connector_disabled") => "Refused: the connector is disabled".to_owned(),
            Some("connector_offline") => "Refused: the connector was offline".to_owned(),
            Some("credentials_invalid") => "Refused: the credentials were invalid".to_owned(),
            Some(reason) => format!("Refused ({reason})"),
            None => other.to_owned(),
        },
    }
}

/// The page of a connector's schedule.
pub fn schedule_href(connector: ConnectorId) -> String {
    format!("/connectors/{connector}/reconciliation/schedule")
}

/// When a schedule last fired: its run (linked) or why it did not start one.
#[component]
fn LastRun(schedule: ReconciliationSchedule) -> impl IntoView {
    let connector = schedule.connector_id;
    let run = schedule.last_run_id.map(|run| {
        view! {
            " "<a class="underline" href=format!("/connectors/{connector}/reconciliation/runs/{run}")>"Open the run"</a>
        }
    });
    let refused = schedule
        .last_outcome
        .filter(|o| o != "accepted")
        .map(|o| view! { <div class="text-amber-900">{outcome_text(&o)}</div> });
    view! {
        <Timestamp at=schedule.last_run_at/>
        {run}
        {refused}
    }
}

/// Every connector's schedule: connector, frequency in words, mode, enabled, last run, next run.
#[component]
pub fn SchedulesTable(schedules: Vec<ReconciliationSchedule>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Reconciliation schedules"</caption>
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th scope="col" class="px-3 py-2">"Connector"</th>
                        <th scope="col" class="px-3 py-2">"Runs"</th>
                        <th scope="col" class="px-3 py-2">"Mode"</th>
                        <th scope="col" class="px-3 py-2">"Enabled"</th>
                        <th scope="col" class="px-3 py-2">"Last run"</th>
                        <th scope="col" class="px-3 py-2">"Next run"</th>
                    </tr>
                </thead>
                <tbody>
                    {schedules.into_iter().map(|s| {
                        let name = s.connector_name.clone().unwrap_or_else(|| s.connector_id.to_string());
                        let (href, runs_href) = (schedule_href(s.connector_id), format!("/connectors/{}/reconciliation", s.connector_id));
                        let (words, mode, enabled, next) = (s.describe(), s.mode.label(), s.enabled, s.next_run_at);
                        view! {
                            <tr class="border-t border-slate-100 align-top">
                                <td class="px-3 py-2">
                                    <a class="font-medium underline" href=href>{name}</a>
                                    <div><a class="text-xs text-slate-600 underline" href=runs_href>"Runs"</a></div>
                                </td>
                                <td class="px-3 py-2">{words}</td>
                                <td class="px-3 py-2">{mode}</td>
                                <td class="px-3 py-2">{if enabled { "Yes" } else { "No" }}</td>
                                <td class="px-3 py-2 whitespace-nowrap"><LastRun schedule=s/></td>
                                <td class="px-3 py-2 whitespace-nowrap"><Timestamp at=next/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A connector's schedule as it stands, with enable/disable and delete (a confirmation first).
#[component]
pub fn ScheduleState(connector_id: ConnectorId, schedule: ReconciliationSchedule) -> impl IntoView {
    use leptos::server_fn::ServerFn;
    let enabled = schedule.enabled;
    let (words, mode, next) = (
        schedule.describe(),
        schedule.mode.label(),
        schedule.next_run_at,
    );
    view! {
        <div class=CARD>
            <dl class="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1">
                <dt class="text-slate-500">"Runs"</dt><dd>{words}</dd>
                <dt class="text-slate-500">"Mode"</dt><dd>{mode}</dd>
                <dt class="text-slate-500">"Status"</dt><dd>{if enabled { "Enabled" } else { "Disabled" }}</dd>
                <dt class="text-slate-500">"Next run"</dt><dd><Timestamp at=next/></dd>
                <dt class="text-slate-500">"Last run"</dt><dd><LastRun schedule/></dd>
            </dl>
            <div class="mt-3 flex flex-wrap gap-2">
                <CommandForm endpoint=crate::api::SetScheduleEnabled::PATH then="refresh" aria_label="Enable or disable the schedule">
                    <Hidden name="connector_id" value=connector_id.to_string()/>
                    <Hidden name="enabled" value=(!enabled).to_string()/>
                    <button type="submit" class=BUTTON>{if enabled { "Disable schedule" } else { "Enable schedule" }}</button>
                </CommandForm>
                <CommandForm endpoint=crate::api::DeleteSchedule::PATH then="close refresh" aria_label="Delete the schedule">
                    <Hidden name="connector_id" value=connector_id.to_string()/>
                    <ConfirmDialog id="delete-schedule" label="Delete schedule" title="Delete this schedule?"
                        message="The connector will no longer be reconciled on its own. Runs already made stay."
                        confirm="Delete schedule"/>
                </CommandForm>
            </div>
        </div>
    }
}

/// The schedule form: mode and frequency, and the fields the frequency uses (weekday, day of month, hour, cron
/// expression), with the next five runs checked live by the server. Saving keeps the enabled state (see
/// `save_schedule`).
#[component]
pub fn ScheduleForm(
    connector_id: ConnectorId,
    schedule: Option<ReconciliationSchedule>,
    /// The server-rendered upcoming runs of the schedule as it stands (see `preview_schedule`).
    upcoming: String,
) -> impl IntoView {
    use leptos::server_fn::ServerFn;
    let mode = schedule
        .as_ref()
        .map_or(ReconciliationMode::Full, |s| s.mode);
    let frequency = schedule
        .as_ref()
        .map_or(ScheduleFrequency::Daily, |s| s.frequency);
    let weekday = schedule.as_ref().and_then(|s| s.day_of_week).unwrap_or(1);
    let day_of_month = schedule
        .as_ref()
        .and_then(|s| s.day_of_month)
        .unwrap_or(1)
        .to_string();
    let hour = schedule.as_ref().map_or(2, |s| s.hour_of_day);
    let cron = schedule
        .as_ref()
        .and_then(|s| s.cron_expression.clone())
        .unwrap_or_default();
    view! {
        <CommandForm endpoint=crate::api::SaveSchedule::PATH then="refresh" aria_label="Schedule"
            class="schedule-form space-y-3 rounded-lg border border-slate-200 bg-white p-4 text-sm">
            <div data-live=crate::api::PreviewSchedule::PATH data-live-answer="upcoming-runs" class="space-y-3">
                <Hidden name="connector_id" value=connector_id.to_string()/>
                <div class="flex flex-wrap gap-4">
                    <label class="flex flex-col gap-1">
                        "Mode"
                        <select name="mode" class=SELECT>
                            {ReconciliationMode::ALL.iter().map(|m| view! {
                                <option value=m.as_str() selected=*m == mode>{m.label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="flex flex-col gap-1">
                        "Frequency"
                        <select name="frequency" class=SELECT>
                            {ScheduleFrequency::ALL.iter().map(|f| view! {
                                <option value=f.as_str() selected=*f == frequency>{f.label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="flex flex-col gap-1" data-for="daily weekly monthly">
                        "Hour (UTC)"
                        <select name="hour_of_day" class=SELECT>
                            {(0u8..24).map(|h| view! {
                                <option value=h.to_string() selected=h == hour>{format!("{h:02}:00")}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <div class="flex flex-col gap-1" data-for="monthly">
                        <label class="flex flex-col gap-1">
                            "Day of month"
                            <input type="number" name="day_of_month" min="1" max="31" value=day_of_month
                                class="w-24 rounded border border-slate-300 px-2 py-1" aria-describedby="day-of-month-hint"/>
                        </label>
                        <span id="day-of-month-hint" class="text-xs text-slate-500">"A shorter month runs on its last day."</span>
                    </div>
                </div>
                <fieldset data-for="weekly" class="flex flex-wrap gap-3">
                    <legend class="mb-1">"Weekday"</legend>
                    {WEEKDAYS.iter().enumerate().map(|(i, name)| {
                        let value = i.to_string();
                        let checked = usize::from(weekday) == i;
                        view! {
                            <label class="flex items-center gap-1">
                                <input type="radio" name="day_of_week" value=value checked=checked/>
                                {*name}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <div class="flex flex-col gap-1" data-for="cron">
                    <label class="flex flex-col gap-1">
                        "Cron expression (UTC)"
                        <input type="text" name="cron_expression" value=cron placeholder="30 4 * * 1-5" spellcheck="false"
                            class="w-64 rounded border border-slate-300 px-2 py-1 font-mono" aria-describedby="cron-hint"/>
                    </label>
                    <span id="cron-hint" class="text-xs text-slate-500">"Five fields: minute hour day-of-month month day-of-week."</span>
                </div>
            </div>
            <section aria-labelledby="upcoming-heading">
                <h3 id="upcoming-heading" class="font-medium">"Next five runs"</h3>
                <div id="upcoming-runs" aria-live="polite" inner_html=upcoming></div>
            </section>
            <p data-problem hidden role="alert" class="text-rose-800"></p>
            <button type="submit" class=PRIMARY>"Save schedule"</button>
        </CommandForm>
    }
}

/// The next runs of a schedule being edited, or what is wrong with it (rendered by the server, in place).
#[component]
pub fn UpcomingRuns(runs: Result<Vec<DateTime<Utc>>, AppError>) -> impl IntoView {
    match runs {
        Ok(runs) if runs.is_empty() => {
            view! { <p class="text-slate-600">"This schedule has no upcoming run."</p> }.into_any()
        }
        Ok(runs) => view! {
            <ol class="list-decimal pl-6">
                {runs.into_iter().map(|at| view! {
                    <li><time datetime=at.to_rfc3339()>{at.format("%a %Y-%m-%d %H:%M UTC").to_string()}</time></li>
                }).collect_view()}
            </ol>
        }
        .into_any(),
        Err(error) => view! { <p class="text-rose-800" role="alert">{error.to_string()}</p> }.into_any(),
    }
}

/// Each discrepancy type's colour in the chart, its legend and its table.
fn colour(kind: DiscrepancyType) -> &'static str {
    match kind {
        DiscrepancyType::Missing => "fill-sky-500",
        DiscrepancyType::Orphan => "fill-amber-500",
        DiscrepancyType::Mismatch => "fill-violet-500",
        DiscrepancyType::Collision => "fill-rose-500",
        DiscrepancyType::Unlinked => "fill-teal-500",
        DiscrepancyType::Deleted => "fill-slate-500",
    }
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `n` (the chart's top; at least 1).
pub fn nice_ceiling(n: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= n.max(1) {
                return step * m;
            }
        }
        step *= 10;
    }
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 12.0;

/// The trend as stacked bars by type, one per day, with a legend, axis labels and a title per bar; the same
/// numbers in a table; an empty state when the range has none.
#[component]
pub fn TrendChart(trend: Trend) -> impl IntoView {
    let points = trend.every_day();
    if points.iter().all(|p| p.total == 0) {
        return view! {
            <p class="rounded border border-dashed border-slate-300 bg-white p-6 text-center text-slate-600">
                "No discrepancies were found in this range."
            </p>
        }
        .into_any();
    }
    let top = nice_ceiling(points.iter().map(|p| p.total).max().unwrap_or(1));
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let step = plot_w / points.len().max(1) as f64;
    let bar = (step * 0.7).max(1.0);
    let y = move |v: u64| TOP + plot_h - plot_h * v as f64 / top as f64;
    let first = points
        .first()
        .map(|p| p.date.to_string())
        .unwrap_or_default();
    let last = points
        .last()
        .map(|p| p.date.to_string())
        .unwrap_or_default();
    let summary = format!(
        "Discrepancies found per day from {first} to {last}, stacked by type; at most {} in a day.",
        points.iter().map(|p| p.total).max().unwrap_or(0)
    );
    // A date label every seventh bar at most, so they never overlap.
    let every = points.len().div_ceil(8).max(1);
    let bars = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = LEFT + step * i as f64 + (step - bar) / 2.0;
            let mut base = 0u64;
            let detail: Vec<String> = DiscrepancyType::ALL
                .iter()
                .filter_map(|t| {
                    let n = p.by_type.get(t).copied().unwrap_or(0);
                    (n > 0).then(|| format!("{} {n}", t.label().to_lowercase()))
                })
                .collect();
            let title = if p.total == 0 {
                format!("{}: none", p.date)
            } else {
                format!("{}: {} ({})", p.date, p.total, detail.join(", "))
            };
            let rects = DiscrepancyType::ALL
                .iter()
                .filter_map(|t| {
                    let n = p.by_type.get(t).copied().unwrap_or(0);
                    (n > 0).then(|| {
                        let (lo, hi) = (y(base), y(base + n));
                        base += n;
                        view! {
                            <rect class=colour(*t) x=format!("{x:.1}") y=format!("{hi:.1}") width=format!("{bar:.1}")
                                height=format!("{:.1}", (lo - hi).max(0.5))/>
                        }
                    })
                })
                .collect_view();
            let label = (i % every == 0).then(|| {
                let lx = x + bar / 2.0;
                view! {
                    <text x=format!("{lx:.1}") y=format!("{:.1}", HEIGHT - BOTTOM + 16.0) text-anchor="middle"
                        class="fill-slate-600 text-[10px]">{p.date.format("%m-%d").to_string()}</text>
                }
            });
            // The whole day's column answers the pointer, however small its bar.
            view! {
                <g>
                    <title>{title}</title>
                    <rect x=format!("{:.1}", LEFT + step * i as f64) y=format!("{TOP:.1}") width=format!("{step:.1}")
                        height=format!("{plot_h:.1}") class="fill-transparent hover:fill-slate-100"/>
                    {rects}
                    {label}
                </g>
            }
        })
        .collect_view();
    let ticks = [0, top / 2, top]
        .into_iter()
        .map(|v| {
            let ty = y(v);
            view! {
                <line x1=format!("{LEFT:.1}") x2=format!("{:.1}", WIDTH - 8.0) y1=format!("{ty:.1}") y2=format!("{ty:.1}")
                    class="stroke-slate-200"/>
                <text x=format!("{:.1}", LEFT - 6.0) y=format!("{:.1}", ty + 4.0) text-anchor="end" class="fill-slate-600 text-[10px]">
                    {v.to_string()}
                </text>
            }
        })
        .collect_view();
    let rows = points.clone();
    view! {
        <figure class="rounded-lg border border-slate-200 bg-white p-4">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") class="h-auto w-full" role="img" aria-labelledby="trend-title trend-desc">
                <title id="trend-title">"Discrepancy trend"</title>
                <desc id="trend-desc">{summary}</desc>
                {ticks}
                {bars}
                <text x=format!("{:.1}", LEFT + plot_w / 2.0) y=format!("{:.1}", HEIGHT - 4.0) text-anchor="middle"
                    class="fill-slate-700 text-[11px]">"Day (UTC)"</text>
                <text x="12" y=format!("{:.1}", TOP + plot_h / 2.0) text-anchor="middle"
                    transform=format!("rotate(-90 12 {:.1})", TOP + plot_h / 2.0) class="fill-slate-700 text-[11px]">
                    "Discrepancies"
                </text>
            </svg>
            <figcaption>
                <ul class="mt-2 flex flex-wrap gap-4 text-sm" aria-label="Legend">
                    {DiscrepancyType::ALL.iter().map(|t| view! {
                        <li class="flex items-center gap-1">
                            <svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" class=colour(*t)/></svg>
                            {t.label()}
                        </li>
                    }).collect_view()}
                </ul>
            </figcaption>
        </figure>
        <details class="mt-4">
            <summary class="cursor-pointer text-sm font-medium">"Show the numbers as a table"</summary>
            <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                <table class="w-full text-left text-sm">
                    <caption class="sr-only">"Discrepancies found per day"</caption>
                    <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                        <tr>
                            <th scope="col" class="px-3 py-2">"Day"</th>
                            {DiscrepancyType::ALL.iter().map(|t| view! { <th scope="col" class="px-3 py-2 text-right">{t.label()}</th> }).collect_view()}
                            <th scope="col" class="px-3 py-2 text-right">"Total"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|p| view! {
                            <tr class="border-t border-slate-100">
                                <th scope="row" class="px-3 py-1 font-normal">{p.date.to_string()}</th>
                                {DiscrepancyType::ALL.iter().map(|t| view! {
                                    <td class="px-3 py-1 text-right">{p.by_type.get(t).copied().unwrap_or(0)}</td>
                                }).collect_view()}
                                <td class="px-3 py-1 text-right font-medium">{p.total}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </details>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_tops_are_round() {
        let tops: Vec<u64> = [0, 1, 2, 3, 6, 11, 49, 51, 120, 999]
            .into_iter()
            .map(nice_ceiling)
            .collect();
        assert_eq!(tops, [1, 1, 2, 5, 10, 20, 50, 100, 200, 1000]);
    }

    #[test]
    fn refusals_read_as_sentences() {
        assert_eq!(outcome_text("accepted"), "Started");
        assert_eq!(
            outcome_text("blocked:connector_offline"),
            "Refused: the connector was offline"
        );
        assert_eq!(
            outcome_text("deduped"),
            "Skipped: the same run was already active"
        );
    }
}

#[cfg(all(test, feature = "ssr"))]
mod render_tests {
    //! The chart, the tables and the form as the server renders them.
    use std::collections::BTreeMap;

    use dto::TrendPoint;

    use super::*;

    fn html<V: IntoView + 'static>(view: impl FnOnce() -> V) -> String {
        Owner::new().with(|| view().into_view().to_html())
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn trend(counts: &[(u64, u64)]) -> Trend {
        let first = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        Trend {
            data_points: counts
                .iter()
                .enumerate()
                .map(|(i, (missing, orphan))| {
                    let by_type: BTreeMap<_, _> = [
                        (DiscrepancyType::Missing, *missing),
                        (DiscrepancyType::Orphan, *orphan),
                    ]
                    .into();
                    TrendPoint {
                        date: first + chrono::Duration::days(i as i64),
                        total: missing + orphan,
                        by_type,
                    }
                })
                .collect(),
            connector_id: None,
            from: at("2026-11-20T00:00:00Z"),
            to: at("2026-11-22T00:00:00Z"),
        }
    }

    #[test]
    fn the_chart_has_a_bar_title_a_legend_and_a_table_per_day() {
        let out = html(|| view! { <TrendChart trend=trend(&[(3, 1), (0, 0), (2, 5)])/> });
        assert!(
            out.contains("<title>2026-11-20: 4 (missing 3, orphan 1)</title>"),
            "{out}"
        );
        assert!(out.contains("<title>2026-11-21: none</title>"));
        assert!(out.contains("<title>2026-11-22: 7 (missing 2, orphan 5)</title>"));
        // Stacked: one rect per type with data, plus one hover column per day.
        assert_eq!(
            out.matches("fill-sky-500").count(),
            2 + 1,
            "two bars and the legend"
        );
        assert!(out.contains("role=\"img\""));
        assert!(out.contains("Day (UTC)") && out.contains(">Discrepancies<"));
        for t in DiscrepancyType::ALL {
            assert!(out.contains(t.label()), "legend and table name {t}");
        }
        assert_eq!(out.matches("<th scope=\"row\"").count(), 3);
        // The axis tops at a round number above the highest day.
        assert!(out.contains(">10</text>"), "{out}");
    }

    #[test]
    fn an_empty_range_says_so() {
        let out = html(|| view! { <TrendChart trend=trend(&[(0, 0), (0, 0)])/> });
        assert!(out.contains("No discrepancies were found in this range."));
        assert!(!out.contains("<svg"));
    }

    fn schedule() -> ReconciliationSchedule {
        ReconciliationSchedule {
            id: "00000000-0000-4000-8000-000000000001".parse().unwrap(),
            connector_id: "00000000-0000-4000-8000-000000000002".parse().unwrap(),
            connector_name: Some("HR <script>".into()),
            mode: ReconciliationMode::Full,
            frequency: ScheduleFrequency::Weekly,
            day_of_week: Some(0),
            day_of_month: None,
            hour_of_day: 14,
            cron_expression: None,
            enabled: true,
            last_run_at: Some(at("2026-11-22T14:00:00Z")),
            last_run_id: None,
            last_outcome: Some("blocked:connector_offline".into()),
            next_run_at: Some(at("2026-11-29T14:00:00Z")),
            created_at: at("2026-11-01T00:00:00Z"),
            updated_at: None,
        }
    }

    #[test]
    fn the_schedules_table_reads_in_words_and_escapes_names() {
        let out = html(|| view! { <SchedulesTable schedules=vec![schedule()]/> });
        assert!(out.contains("every Sunday at 14:00 UTC"));
        assert!(out.contains("HR &lt;script&gt;") && !out.contains("<script>"));
        assert!(out.contains("Refused: the connector was offline"));
        assert!(out
            .contains("/connectors/00000000-0000-4000-8000-000000000002/reconciliation/schedule"));
    }

    #[test]
    fn the_form_starts_from_the_schedule_and_checks_live() {
        let s = schedule();
        let out = html(move || {
            view! { <ScheduleForm connector_id=s.connector_id schedule=Some(s) upcoming="<ol></ol>".to_owned()/> }
        });
        assert!(out.contains("data-live=\"/api/"), "{out}");
        assert!(out.contains("value=\"weekly\" selected"));
        assert!(out.contains("value=\"0\" checked"), "Sunday picked");
        assert!(out.contains("value=\"14\" selected"));
        assert_eq!(out.matches("data-for=").count(), 4);
        // Its fields follow the frequency by the stylesheet's rules: the page's CSP allows no inline style.
        assert!(!out.contains("<style"), "{out}");
        let state = html(
            || view! { <ScheduleState connector_id=schedule().connector_id schedule=schedule()/> },
        );
        assert!(state.contains("Disable schedule") && state.contains("Delete this schedule?"));
    }

    #[test]
    fn upcoming_runs_or_what_is_wrong() {
        let out = html(|| view! { <UpcomingRuns runs=Ok(vec![at("2026-11-29T14:00:00Z")])/> });
        assert!(out.contains("Sun 2026-11-29 14:00 UTC"));
        let err = AppError::Validation {
            field: Some("cron_expression".into()),
            message: "cron_expression is not a valid five-field cron expression".into(),
        };
        let out = html(move || view! { <UpcomingRuns runs=Err(err)/> });
        assert!(out.contains("role=\"alert\"") && out.contains("cron_expression is not a valid"));
    }
}
