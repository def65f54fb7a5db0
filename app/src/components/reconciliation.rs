//! Reconciliation views, all rendered on the server: badges, the run progress bar, the runs table, and the
//! controls (start form, run actions, a discrepancy's actions and dialogs, the selection toolbar and the bulk
//! dialog), plus the fragments that server functions answer them with (a start's outcome, a preview, a bulk
//! remediation's plan and results).
//!
//! Every control that changes something is a [`CommandForm`] posting to its server function, sent in place by
//! the page's [commands](super::commands) (and a plain form post before the WASM arrives); what follows is said
//! in `data-` attributes. No view is written twice, and none of this reaches the browser's WASM.

use dto::{
    enums::{
        DiscrepancyType, ReconciliationMode, ReconciliationRunStatus, RemediationAction,
        RemediationDirection, ResolutionStatus, RunAction,
    },
    ConnectorId, DiscrepancyId, ReconciliationRun, RunId, UserId, MAX_BULK_ITEMS,
};
use leptos::prelude::*;

use crate::api::{
    remedies, remedy_value, selection_text, ChangeLine, ItemResult, Outcome, Picked, Suggestion,
};
use crate::components::{
    commands::{CommandForm, Hidden},
    common::{ShortId, Timestamp},
    dialog::{BUTTON, DANGER, DIALOG_CLASS, PRIMARY},
};

const BADGE: &str = "inline-block whitespace-nowrap rounded px-2 py-0.5 text-xs font-medium";
const SELECT: &str = "rounded border border-slate-300 px-2 py-1";
const WIDE_DIALOG: &str =
    "w-full max-w-xl rounded-lg border border-slate-200 p-0 shadow-xl backdrop:bg-slate-900/40";

/// A run's status in words, coloured; the text, not the colour, carries the meaning.
#[component]
pub fn RunStatusBadge(status: ReconciliationRunStatus) -> impl IntoView {
    use ReconciliationRunStatus::*;
    let colour = match status {
        Pending => "bg-slate-100 text-slate-800",
        Running => "bg-sky-100 text-sky-900",
        Paused => "bg-amber-100 text-amber-900",
        Completed => "bg-emerald-100 text-emerald-900",
        Failed => "bg-rose-100 text-rose-900",
        Cancelled => "bg-slate-200 text-slate-700",
    };
    view! { <span class=format!("{BADGE} {colour}") data-run-status=status.as_str()>{status.label()}</span> }
}

/// A discrepancy's type in words, with a colour of its own per type.
#[component]
pub fn DiscrepancyTypeBadge(kind: DiscrepancyType) -> impl IntoView {
    use DiscrepancyType::*;
    let colour = match kind {
        Missing => "bg-amber-100 text-amber-900",
        Orphan => "bg-violet-100 text-violet-900",
        Mismatch => "bg-sky-100 text-sky-900",
        Collision => "bg-rose-100 text-rose-900",
        Unlinked => "bg-emerald-100 text-emerald-900",
        Deleted => "bg-slate-900 text-white",
    };
    view! { <span class=format!("{BADGE} {colour}") data-type=kind.as_str()>{kind.label()}</span> }
}

/// Where a discrepancy is in its resolution, in words.
#[component]
pub fn ResolutionBadge(status: ResolutionStatus) -> impl IntoView {
    let colour = match status {
        ResolutionStatus::Pending => "bg-amber-100 text-amber-900",
        ResolutionStatus::Resolved => "bg-emerald-100 text-emerald-900",
        ResolutionStatus::Ignored => "bg-slate-100 text-slate-600",
    };
    view! { <span class=format!("{BADGE} {colour}") data-resolution=status.as_str()>{status.label()}</span> }
}

/// A duration as people read it: `4.2 s`, `42 s`, `3 min 12 s`, `1 h 05 min`.
pub fn duration_text(seconds: Option<f64>) -> String {
    let Some(seconds) = seconds.filter(|s| s.is_finite() && *s >= 0.0) else {
        return "—".to_owned();
    };
    if seconds < 10.0 {
        return format!("{seconds:.1} s");
    }
    // Whole seconds from here (a saturating cast: absurd durations read as the largest).
    let total = seconds.round() as u64;
    match (total / 3600, (total % 3600) / 60, total % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, s) => format!("{m} min {s:02} s"),
        (h, m, _) => format!("{h} h {m:02} min"),
    }
}

/// A run's name: its mode, "dry run" when the upstream says it only reports (`Full dry run`, `Delta run`).
pub fn run_name(run: &ReconciliationRun) -> String {
    format!(
        "{} {}",
        run.mode.label(),
        if run.is_dry_run() { "dry run" } else { "run" }
    )
}

/// Whether a run only reports, in words; "Not reported" when the upstream does not say (xavyo-idp).
pub fn dry_run_text(dry_run: Option<bool>) -> &'static str {
    match dry_run {
        Some(true) => "Yes",
        Some(false) => "No",
        None => "Not reported",
    }
}

/// How far a run got: accounts compared out of the accounts to compare, as a progress bar assistive technology
/// reads (`role="progressbar"` with its values); indeterminate until the upstream reports how many accounts
/// there are. Only what the upstream reported is said: an active run with no count "has reported no
/// progress", a finished one says how many accounts it compared.
#[component]
pub fn RunProgress(processed: u64, total: u64, active: bool) -> impl IntoView {
    let known = total > 0;
    let done = processed.min(total);
    let percent = if known {
        (done as f64 * 100.0 / total as f64).round()
    } else {
        0.0
    };
    let text = match (known, active) {
        (true, _) => format!("{done} of {total} accounts ({percent:.0} %)"),
        (false, true) => "No progress reported yet.".to_owned(),
        (false, false) => format!(
            "{processed} account{} compared.",
            if processed == 1 { "" } else { "s" }
        ),
    };
    view! {
        <div class="space-y-1">
            <div
                role="progressbar"
                aria-label="Accounts compared"
                aria-valuemin="0"
                aria-valuemax=known.then(|| total.to_string())
                aria-valuenow=known.then(|| done.to_string())
                aria-valuetext=text.clone()
                class="h-2 w-full overflow-hidden rounded-full bg-slate-200"
            >
                // An SVG width attribute, not a `style`: the page's CSP allows no inline style.
                <svg class="block h-2 w-full" aria-hidden="true">
                    <rect class="fill-slate-900" height="100%" width=format!("{percent}%") rx="4"/>
                </svg>
            </div>
            <p class="text-sm text-slate-700">{text}</p>
        </div>
    }
}

/// Who started a run: the schedule, the signed-in admin, or another user (by id).
#[component]
pub fn StartedBy(by: Option<UserId>, me: Option<UserId>) -> impl IntoView {
    match by {
        None => view! { <span>"Schedule"</span> }.into_any(),
        Some(user) if Some(user) == me => view! { <span>"You"</span> }.into_any(),
        Some(user) => view! { <ShortId id=user.to_string()/> }.into_any(),
    }
}

/// A button opening the confirmation dialog `id`, whose confirming button submits the form around it (with
/// `name` = `value` when given).
#[component]
pub fn ConfirmDialog(
    /// The dialog's id, unique on the page.
    #[prop(into)]
    id: String,
    /// The opening button's text.
    label: &'static str,
    /// The dialog's title.
    title: &'static str,
    /// What will happen, in a sentence.
    #[prop(into)]
    message: String,
    /// The confirming button's text.
    confirm: &'static str,
    /// The confirming button's field name and value, if the form needs them.
    #[prop(optional)]
    field: Option<(&'static str, &'static str)>,
) -> impl IntoView {
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    let (name, value) = field.unzip();
    view! {
        <button type="button" class=BUTTON data-open-dialog=id.clone()>{label}</button>
        <dialog id=id class=DIALOG_CLASS aria-labelledby=labelled_by>
            <div class="space-y-3 p-5">
                <h2 id=title_id class="text-lg font-semibold">{title}</h2>
                <p class="text-sm text-slate-700">{message}</p>
                <div class="flex justify-end gap-2">
                    <button type="button" class=BUTTON autofocus data-close>"Keep it"</button>
                    <button type="submit" class=DANGER name=name value=value>{confirm}</button>
                </div>
            </div>
        </dialog>
    }
}

/// The start form of a connector's runs page (mode and dry run), and where its outcome shows.
#[component]
pub fn StartRunForm(connector_id: ConnectorId) -> impl IntoView {
    use leptos::server_fn::ServerFn;
    view! {
        <CommandForm endpoint=crate::api::StartReconciliationRun::PATH answer="start-outcome" then="refresh"
            aria_label="Start a reconciliation run"
            class="flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm">
            <Hidden name="connector_id" value=connector_id.to_string()/>
            <label class="flex flex-col gap-1">
                "Mode"
                <select name="mode" class=SELECT>
                    {ReconciliationMode::ALL
                        .iter()
                        .map(|m| view! { <option value=m.as_str() selected=*m == ReconciliationMode::Full>{m.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="flex items-center gap-2 py-1">
                <input type="checkbox" name="dry_run" value="true" checked/>
                "Dry run (report only, change nothing)"
            </label>
            <button type="submit" class=PRIMARY>"Start run"</button>
        </CommandForm>
        <div id="start-outcome" role="status" class="mt-2 text-sm"></div>
    }
}

/// Pause, resume and cancel (after a confirmation), each offered only where the run's `status` allows it;
/// pause and resume only when the upstream can do them (`can_pause`: xavyo-idp cannot).
#[component]
pub fn RunActions(
    connector_id: ConnectorId,
    run_id: RunId,
    status: ReconciliationRunStatus,
    can_pause: bool,
) -> impl IntoView {
    use leptos::server_fn::ServerFn;
    let button = move |action: RunAction| {
        (can_pause && status.allows(action)).then(|| {
            view! { <button type="submit" class=BUTTON name="action" value=action.as_str()>{action.label()}</button> }
        })
    };
    let (pause, resume) = (button(RunAction::Pause), button(RunAction::Resume));
    let cancel = status.allows(RunAction::Cancel).then(|| {
        view! {
            <ConfirmDialog
                id=format!("cancel-run-{run_id}")
                label="Cancel"
                title="Cancel this run?"
                message="It stops at its next batch and cannot be resumed; what it found so far stays."
                confirm="Cancel run"
                field=("action", RunAction::Cancel.as_str())
            />
        }
    });
    view! {
        <CommandForm endpoint=crate::api::ActOnRun::PATH then="close refresh"
            aria_label="Run actions" class="flex flex-wrap gap-2">
            <Hidden name="connector_id" value=connector_id.to_string()/>
            <Hidden name="run_id" value=run_id.to_string()/>
            {pause}
            {resume}
            {cancel}
        </CommandForm>
    }
}

/// The runs of a connector, newest first; each row links to its run, active ones carry their actions.
#[component]
pub fn RunsTable(
    connector_id: ConnectorId,
    runs: Vec<ReconciliationRun>,
    me: Option<UserId>,
    /// Whether the upstream pauses and resumes runs.
    can_pause: bool,
) -> impl IntoView {
    if runs.is_empty() {
        return view! {
            <p class="rounded border border-dashed border-slate-300 bg-white p-6 text-center text-slate-600">
                "No reconciliation runs yet. Start one above."
            </p>
        }
        .into_any();
    }
    let rows = runs
        .into_iter()
        .map(|run| {
            let href = format!("/connectors/{connector_id}/reconciliation/runs/{}", run.id);
            let name = run_name(&run);
            let label = format!("{name} {}", run.id);
            let progress = format!("{} / {}", run.accounts_processed, run.accounts_total);
            let actions = run
                .status
                .is_active()
                .then(|| view! { <RunActions connector_id run_id=run.id status=run.status can_pause/> });
            view! {
                <tr class="border-t border-slate-100 align-top hover:bg-slate-50">
                    <td class="px-3 py-2">
                        <a href=href aria-label=label class="font-medium underline">
                            {name}
                        </a>
                    </td>
                    <td class="px-3 py-2"><RunStatusBadge status=run.status/></td>
                    <td class="px-3 py-2">{run.mode.label()}</td>
                    <td class="px-3 py-2">{dry_run_text(run.dry_run)}</td>
                    <td class="px-3 py-2 text-right whitespace-nowrap">{progress}</td>
                    <td class="px-3 py-2 text-right">{run.discrepancies_found}</td>
                    <td class="px-3 py-2"><StartedBy by=run.created_by me/></td>
                    <td class="px-3 py-2 whitespace-nowrap"><Timestamp at=run.started_at/></td>
                    <td class="px-3 py-2 whitespace-nowrap">{duration_text(run.elapsed_seconds(std::time::SystemTime::now().into()))}</td>
                    <td class="px-3 py-2">{actions}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Reconciliation runs"</caption>
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th scope="col" class="px-3 py-2">"Run"</th>
                        <th scope="col" class="px-3 py-2">"Status"</th>
                        <th scope="col" class="px-3 py-2">"Mode"</th>
                        <th scope="col" class="px-3 py-2">"Dry run"</th>
                        <th scope="col" class="px-3 py-2 text-right">"Processed"</th>
                        <th scope="col" class="px-3 py-2 text-right">"Discrepancies"</th>
                        <th scope="col" class="px-3 py-2">"Started by"</th>
                        <th scope="col" class="px-3 py-2">"Started"</th>
                        <th scope="col" class="px-3 py-2">"Duration"</th>
                        <th scope="col" class="px-3 py-2">"Actions"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The `<option>`s of a remediation choice: each of `offered` (an action with a direction it takes), the first
/// chosen.
fn remedy_options(offered: &[(RemediationAction, RemediationDirection)]) -> impl IntoView {
    offered
        .iter()
        .map(|(a, d)| view! { <option value=remedy_value(*a, *d)>{format!("{}, {}", a.label(), d.label())}</option> })
        .collect_view()
}

/// Preview, Remediate and Ignore for one pending discrepancy. The remediate dialog offers only the actions that
/// fit its type and the directions each takes (the shared rules); linking an orphan or a collision asks for
/// the identity, a collision's candidates offered.
#[component]
pub fn DiscrepancyActions(
    connector_id: ConnectorId,
    id: DiscrepancyId,
    kind: DiscrepancyType,
    candidates: Vec<UserId>,
    /// What the discrepancy is, in words (`Mismatch of alice.anders (department)`).
    #[prop(into)]
    subject: String,
    /// Whether the upstream writes an audit entry for an ignore (xavyo-idp does not).
    audits_ignores: bool,
) -> impl IntoView {
    use crate::api::{IgnoreDiscrepancy, PreviewRemediation, RemediateDiscrepancy};
    use leptos::server_fn::ServerFn;
    let dialog = format!("remediate-{id}");
    let title_id = format!("{dialog}-title");
    let labelled_by = title_id.clone();
    let identity = (kind.allows(RemediationAction::Link) && kind.link_needs_identity()).then(|| {
        let field = if candidates.is_empty() {
            view! { <input type="text" name="identity_id" class=SELECT placeholder="UUID" spellcheck="false"/> }.into_any()
        } else {
            view! {
                <select name="identity_id" class=SELECT>
                    {candidates.iter().map(|c| view! { <option value=c.to_string()>{c.to_string()}</option> }).collect_view()}
                </select>
            }
            .into_any()
        };
        let label = match (candidates.is_empty(), kind.remediations().len()) {
            (true, 1) => "Identity to link (its id)",
            (true, _) => "Identity to link (its id; for Link only)",
            (false, _) => "Candidate identity to link",
        };
        view! { <label class="flex flex-col gap-1 text-sm">{label}{field}</label> }
    });
    let ignore_message = if audits_ignores {
        format!(
            "{subject} stays as it is and leaves the pending list. The audit log records who ignored it."
        )
    } else {
        format!("{subject} stays as it is and leaves the pending list.")
    };
    let group = format!("Actions for {subject}");
    let title = format!("Remediate: {subject}");
    let preview_subject = subject.clone();
    view! {
        <div class="flex flex-wrap gap-1" role="group" aria-label=group>
            <CommandForm endpoint=PreviewRemediation::PATH answer="preview-body" open="preview-dialog">
                <Hidden name="connector_id" value=connector_id.to_string()/>
                <Hidden name="id" value=id.to_string()/>
                <Hidden name="subject" value=preview_subject/>
                <button type="submit" class=BUTTON>"Preview"</button>
            </CommandForm>
            <button type="button" class=BUTTON data-open-dialog=dialog.clone()>"Remediate"</button>
            <CommandForm endpoint=IgnoreDiscrepancy::PATH then="close refresh">
                <Hidden name="connector_id" value=connector_id.to_string()/>
                <Hidden name="id" value=id.to_string()/>
                <ConfirmDialog
                    id=format!("ignore-{id}")
                    label="Ignore"
                    title="Ignore this discrepancy?"
                    message=ignore_message
                    confirm="Ignore discrepancy"
                />
            </CommandForm>
        </div>
        <dialog id=dialog class=DIALOG_CLASS aria-labelledby=labelled_by>
            <CommandForm endpoint=RemediateDiscrepancy::PATH then="close refresh" class="space-y-3 p-5">
                <Hidden name="connector_id" value=connector_id.to_string()/>
                <Hidden name="id" value=id.to_string()/>
                <Hidden name="kind" value=kind.as_str()/>
                <Hidden name="subject" value=subject/>
                <h2 id=title_id class="text-lg font-semibold">{title}</h2>
                <label class="flex flex-col gap-1 text-sm">
                    "Remediation"
                    <select name="remedy" class=SELECT>{remedy_options(&remedies(kind.remediations()))}</select>
                </label>
                {identity}
                <p role="alert" class="text-sm text-rose-900" data-problem hidden></p>
                <div class="flex justify-end gap-2">
                    <button type="button" class=BUTTON data-close>"Cancel"</button>
                    <button type="submit" class=PRIMARY>"Remediate"</button>
                </div>
            </CommandForm>
        </dialog>
    }
}

/// The page's one preview dialog; a preview's answer fills its body.
#[component]
pub fn PreviewDialog() -> impl IntoView {
    view! {
        <dialog id="preview-dialog" class=WIDE_DIALOG aria-labelledby="preview-title">
            <div class="space-y-3 p-5">
                <h2 id="preview-title" class="text-lg font-semibold">"Preview"</h2>
                <div id="preview-body" role="status"></div>
                <div class="flex justify-end"><button type="button" class=BUTTON data-close>"Close"</button></div>
            </div>
        </dialog>
    }
}

/// What a preview suggests for `subject`: the action and direction, and what it would change. A server
/// function answers it.
#[component]
pub fn SuggestionView(#[prop(into)] subject: String, suggestion: Suggestion) -> impl IntoView {
    view! {
        <p class="text-sm font-medium">{subject}</p>
        <p class="text-sm">
            "Suggested: "<strong>{suggestion.action.label()}</strong>
            {suggestion.direction.map(|d| view! { ", "<strong>{d.label()}</strong> })}
        </p>
        <ChangeList changes=suggestion.changes/>
    }
}

/// The selection toolbar above the discrepancies (sticky), opening the [`BulkDialog`]. The page's commands keep
/// the count, the buttons' states and the `picked` field; "select all" is offered when one bulk remediation can
/// take every pending match of the filter (`matching` ≤ [`MAX_BULK_ITEMS`]; `query` is the page's), and
/// explained when it cannot.
#[component]
pub fn SelectionToolbar(
    connector_id: ConnectorId,
    matching: u64,
    #[prop(into)] query: String,
) -> impl IntoView {
    use crate::api::{MatchingDiscrepancies, PlanBulkRemediation};
    use leptos::server_fn::ServerFn;
    let select_all = match matching {
        0 => None,
        n if n <= MAX_BULK_ITEMS as u64 => Some(
            view! {
                <CommandForm endpoint=MatchingDiscrepancies::PATH then="select">
                    <Hidden name="connector_id" value=connector_id.to_string()/>
                    <Hidden name="query" value=query/>
                    <button type="submit" class=BUTTON>{format!("Select all {n} pending matching this filter")}</button>
                </CommandForm>
            }
            .into_any(),
        ),
        n => Some(
            view! {
                <p class="text-slate-600">
                    {format!("{n} pending discrepancies match this filter; one bulk remediation takes at most {MAX_BULK_ITEMS}. Narrow the filter (by run or type) to select them all at once.")}
                </p>
            }
            .into_any(),
        ),
    };
    view! {
        <div role="toolbar" aria-label="Selection"
            class="sticky top-0 z-50 mb-2 flex flex-wrap items-center gap-2 rounded-lg border border-slate-200 bg-white p-2 text-sm shadow-sm">
            <span role="status" class="font-medium" data-selected-count
                data-selection-key=format!("console:reconciliation-selection:{connector_id}")>"0 selected"</span>
            <button type="button" class=BUTTON data-clear-selection data-needs-selection disabled>"Clear selection"</button>
            {select_all}
            <CommandForm endpoint=PlanBulkRemediation::PATH answer="bulk-body" open="bulk-dialog">
                <Hidden name="connector_id" value=connector_id.to_string()/>
                <input type="hidden" name="picked" value="" data-selection/>
                <button type="submit" class=PRIMARY data-needs-selection disabled>"Remediate selected…"</button>
            </CommandForm>
        </div>
    }
}

/// The bulk dialog the toolbar opens; its body comes from the server ([`BulkPlan`], then [`BulkResults`]). It
/// sits outside the page's live region, so that the list refreshes behind it while it shows the results.
#[component]
pub fn BulkDialog() -> impl IntoView {
    view! {
        <dialog id="bulk-dialog" class=WIDE_DIALOG aria-labelledby="bulk-title">
            <div class="space-y-3 p-5">
                <h2 id="bulk-title" class="text-lg font-semibold">"Remediate the selected discrepancies"</h2>
                <div id="bulk-body"></div>
                <div class="flex justify-end"><button type="button" class=BUTTON data-close>"Close"</button></div>
            </div>
        </dialog>
    }
}

/// The bulk dialog's choice for the `picked` discrepancies: the remediations that fit them all (`offered`), and a
/// dry run first. A server function answers it.
#[component]
pub fn BulkPlan(
    connector_id: ConnectorId,
    picked: Vec<Picked>,
    offered: Vec<(RemediationAction, RemediationDirection)>,
) -> impl IntoView {
    use crate::api::BulkRemediate;
    use leptos::server_fn::ServerFn;
    let n = picked.len();
    let count = format!(
        "{n} discrepanc{} selected.",
        if n == 1 { "y" } else { "ies" }
    );
    if offered.is_empty() {
        return view! {
            <p class="text-sm">{count}</p>
            <p role="alert" class="text-sm text-amber-900">
                "No single remediation fits every selected discrepancy (or each needs its own identity). Select discrepancies of one type."
            </p>
        }
        .into_any();
    }
    view! {
        <CommandForm endpoint=BulkRemediate::PATH answer="bulk-results" class="space-y-3">
            <Hidden name="connector_id" value=connector_id.to_string()/>
            <Hidden name="picked" value=selection_text(&picked)/>
            <Hidden name="dry_run" value="true"/>
            <p class="text-sm">{count}" A dry run first shows what each remediation would change; then confirm."</p>
            <div class="flex flex-wrap items-end gap-3">
                <label class="flex flex-col gap-1 text-sm">
                    "Remediation"
                    <select name="remedy" class=SELECT>{remedy_options(&offered)}</select>
                </label>
                <button type="submit" class=BUTTON>"Dry run"</button>
            </div>
        </CommandForm>
        <div id="bulk-results" role="status" class="mt-2"></div>
    }
    .into_any()
}

/// One row per discrepancy of a bulk remediation: what would happen (dry run) or what did, with the changes.
/// Each row carries its discrepancy and outcome (`data-id`, `data-outcome`): failed ones stay selected. A dry
/// run's results end with the form that confirms exactly what they show. A server function answers it.
#[component]
pub fn BulkResults(
    connector_id: ConnectorId,
    results: Vec<ItemResult>,
    dry_run: bool,
    /// The discrepancies, as the form sent them.
    picked: String,
    /// The remediation, as the form sent it.
    remedy: String,
) -> impl IntoView {
    use crate::api::BulkRemediate;
    use leptos::server_fn::ServerFn;
    let caption = if dry_run {
        "Dry run: what would change"
    } else {
        "Results"
    };
    let n = results.len();
    let confirm = dry_run.then(|| {
        view! {
            <CommandForm endpoint=BulkRemediate::PATH answer="bulk-results" then="deselect-done refresh" class="mt-2 flex justify-end">
                <Hidden name="connector_id" value=connector_id.to_string()/>
                <Hidden name="picked" value=picked/>
                <Hidden name="remedy" value=remedy/>
                <Hidden name="dry_run" value="false"/>
                <button type="submit" class=PRIMARY>{format!("Remediate {n}")}</button>
            </CommandForm>
        }
    });
    view! {
        <div>
            <table class="w-full text-left text-sm">
                <caption class="py-1 text-left font-medium">{caption}</caption>
                <thead class="text-xs uppercase text-slate-500">
                    <tr><th scope="col">"Discrepancy"</th><th scope="col">"Result"</th><th scope="col">"Changes"</th></tr>
                </thead>
                <tbody>
                    {results.into_iter().map(|r| {
                        let (outcome, text) = match (&r.outcome, dry_run) {
                            (Outcome::Succeeded, true) => ("succeeded", "Would succeed"),
                            (Outcome::Succeeded, false) => ("succeeded", "Succeeded"),
                            (Outcome::Failed, true) => ("failed", "Would fail"),
                            (Outcome::Failed, false) => ("failed", "Failed"),
                            (Outcome::Skipped, _) => ("skipped", "Skipped"),
                        };
                        let detail = r.message.map(|m| format!(": {m}")).unwrap_or_default();
                        view! {
                            <tr class="border-t border-slate-100 align-top" data-id=r.id.to_string() data-outcome=outcome>
                                <td class="py-1 pr-3"><ShortId id=r.id.to_string()/></td>
                                <td class="py-1 pr-3">{text}{detail}</td>
                                <td class="py-1"><ChangeList changes=r.changes/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {confirm}
    }
}

/// What a remediation changes (or would), one line per value: `target update alice.anders · title: Contractor
/// → Analyst`; a link or unlink changes no value and says only what and whom.
#[component]
pub fn ChangeList(changes: Option<Vec<ChangeLine>>) -> impl IntoView {
    let Some(changes) = changes else {
        return view! { <p class="text-xs text-slate-500">"Changes not reported by the upstream."</p> }
            .into_any();
    };
    if changes.is_empty() {
        return view! { <p class="text-xs text-slate-500">"No changes."</p> }.into_any();
    }
    let or_none = |s: String| if s.is_empty() { "(none)".to_owned() } else { s };
    view! {
        <ul class="space-y-0.5 text-xs">
            {changes
                .into_iter()
                .map(|c| {
                    let what = format!("{} {}", c.side, c.op);
                    let attribute = (!c.attribute.is_empty()).then(|| format!(" · {}: ", c.attribute));
                    let values = (!c.before.is_empty() || !c.after.is_empty()).then(|| view! {
                        " "<span class="text-rose-800">{or_none(c.before)}</span>" → "
                        <span class="text-emerald-800">{or_none(c.after)}</span>
                    });
                    view! { <li><span class="font-medium">{what}</span>" "{c.subject}{attribute}{values}</li> }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::duration_text;

    #[test]
    fn durations_read_like_people_say_them() {
        assert_eq!(duration_text(None), "—");
        assert_eq!(duration_text(Some(f64::NAN)), "—");
        assert_eq!(duration_text(Some(4.25)), "4.2 s");
        assert_eq!(duration_text(Some(42.0)), "42 s");
        assert_eq!(duration_text(Some(192.0)), "3 min 12 s");
        assert_eq!(duration_text(Some(3900.0)), "1 h 05 min");
    }
}

#[cfg(all(test, feature = "ssr"))]
mod render_tests {
    //! The controls as the server renders them: only what the shared rules allow is offered, and data is
    //! escaped (these fragments are also put in place by the browser).
    use super::*;

    fn id<T: std::str::FromStr>(n: u128) -> T
    where
        T::Err: std::fmt::Debug,
    {
        format!("00000000-0000-4000-8000-{n:012}").parse().unwrap()
    }

    fn html<V: IntoView + 'static>(view: impl FnOnce() -> V) -> String {
        Owner::new().with(|| view().into_view().to_html())
    }

    #[test]
    fn the_progress_bar_draws_without_inline_style() {
        let out = html(|| view! { <RunProgress processed=3 total=12 active=true/> });
        assert!(out.contains(r#"aria-valuenow="3""#), "{out}");
        assert!(out.contains(r#"width="25%""#), "{out}");
        assert!(
            !out.contains("style"),
            "the page's CSP allows no inline style: {out}"
        );
    }

    #[test]
    fn progress_says_only_what_the_upstream_reported() {
        // xavyo-idp reports no counts: an active run has reported no progress, a finished one compared none.
        let active = html(|| view! { <RunProgress processed=0 total=0 active=true/> });
        assert!(active.contains("No progress reported yet."), "{active}");
        let finished = html(|| view! { <RunProgress processed=0 total=0 active=false/> });
        assert!(finished.contains("0 accounts compared."), "{finished}");
        for out in [active, finished] {
            assert!(!out.contains("Counting"), "{out}");
        }
    }

    #[test]
    fn run_actions_are_offered_only_where_the_status_allows_them() {
        for status in ReconciliationRunStatus::ALL {
            let out = html(
                || view! { <RunActions connector_id=id(1) run_id=id(2) status can_pause=true/> },
            );
            for action in RunAction::ALL {
                assert_eq!(
                    out.contains(&format!("value=\"{action}\"")),
                    status.allows(action),
                    "{status} {action}: {out}"
                );
            }
            // An upstream that cannot pause (xavyo-idp) is offered cancel alone.
            let out = html(
                || view! { <RunActions connector_id=id(1) run_id=id(2) status can_pause=false/> },
            );
            for action in RunAction::ALL {
                assert_eq!(
                    out.contains(&format!("value=\"{action}\"")),
                    status.allows(action) && action == RunAction::Cancel,
                    "{status} {action} without pause: {out}"
                );
            }
        }
    }

    #[test]
    fn a_discrepancy_offers_only_the_remediations_of_its_type() {
        let mismatch = html(|| {
            view! { <DiscrepancyActions connector_id=id(1) id=id(3) kind=DiscrepancyType::Mismatch candidates=vec![] subject="Mismatch of a.b (title)" audits_ignores=true/> }
        });
        let offered: Vec<&str> = mismatch
            .match_indices("<option value=\"")
            .map(|(i, _)| {
                let rest = &mismatch[i + 15..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        assert_eq!(
            offered,
            ["update:xavyo_to_target", "update:target_to_xavyo"]
        );
        assert!(!mismatch.contains("identity_id"));

        let collision = html(|| {
            view! { <DiscrepancyActions connector_id=id(1) id=id(3) kind=DiscrepancyType::Collision candidates=vec![id(7), id(8)] subject="Collision of x" audits_ignores=true/> }
        });
        assert!(
            collision.contains("Candidate identity to link"),
            "{collision}"
        );
        for candidate in [id::<UserId>(7), id(8)] {
            assert!(collision.contains(&format!("<option value=\"{candidate}\"")));
        }
        let orphan = html(|| {
            view! { <DiscrepancyActions connector_id=id(1) id=id(3) kind=DiscrepancyType::Orphan candidates=vec![] subject="Orphan svc.backup" audits_ignores=false/> }
        });
        assert!(
            orphan.contains("delete:xavyo_to_target") && orphan.contains("link:target_to_xavyo")
        );
        assert!(orphan.contains("name=\"identity_id\""));
    }

    #[test]
    fn upstream_data_is_escaped() {
        let out = html(|| {
            let changes = vec![ChangeLine {
                side: "target".into(),
                op: "update".into(),
                subject: "<img src=x onerror=alert(1)>".into(),
                attribute: "title".into(),
                before: "\"><script>alert(1)</script>".into(),
                after: "ok".into(),
            }];
            view! { <ChangeList changes=Some(changes)/> }
        });
        assert!(!out.contains("<img") && !out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;img") && out.contains("&lt;script&gt;"));
    }

    #[test]
    fn the_bulk_plan_offers_what_fits_all_and_a_dry_run_first() {
        let picked = vec![
            Picked {
                id: id(1),
                kind: DiscrepancyType::Mismatch,
            },
            Picked {
                id: id(2),
                kind: DiscrepancyType::Mismatch,
            },
        ];
        let offered = crate::api::remedies(&[RemediationAction::Update]);
        let out = html(|| view! { <BulkPlan connector_id=id(5) picked offered/> });
        assert!(out.contains("2 discrepancies selected."));
        assert!(out.contains("name=\"dry_run\" value=\"true\""));
        assert!(out.contains("update:target_to_xavyo"));
        let none = html(|| view! { <BulkPlan connector_id=id(5) picked=vec![] offered=vec![]/> });
        assert!(none.contains("No single remediation fits"));
    }
}
