//! `/connectors/{id}/reconciliation/actions`: the audit log of remediations and ignores, filtered in the URL.

use dto::{
    enums::RemediationAction, ActionList, ActionQuery, ConnectorId, ReconciliationAction, UserId,
    DEFAULT_LIMIT,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{base, path_connector, ReconciliationHeader, Tab};
use crate::api::{change_lines, current_user, list_reconciliation_actions, upstream_features};
use crate::components::{
    common::{AutoSubmit, ErrorPanel, Loading, Pagination, ShortId, Timestamp},
    live::LiveRegion,
    reconciliation::{ChangeList, StartedBy},
};
use crate::params::{action_query, with_params, ACTION_RESULTS, IGNORE_ACTION};

const INPUT: &str = "rounded border border-slate-300 px-2 py-1";

/// The audit log page: server rendered; the filter bar applies in place.
#[component]
pub fn ReconciliationActionsPage() -> impl IntoView {
    let query = use_query_map();
    let (connector_id, connector) = path_connector();
    let filters = Memo::new(move |_| action_query(&query.read()));
    let page = Resource::new(
        move || (connector_id.get(), filters.get()),
        |(id, q)| async move { list_reconciliation_actions(id?, q?).await },
    );
    let me = Resource::new(|| (), |_| current_user());
    let features = Resource::new(|| (), |_| upstream_features());
    view! {
        <Title text="Reconciliation audit log"/>
        <Transition fallback=|| view! { <Loading what="the connector"/> }>
            {move || Suspend::new(async move {
                let connector = match connector.await {
                    Ok(c) => c,
                    Err(error) => return view! { <ErrorPanel error/> }.into_any(),
                };
                let id = connector.id;
                let current = filters.get_untracked().unwrap_or_default();
                let me = me.await.ok().map(|u| u.user_id);
                let audits_ignores = features
                    .await
                    .is_ok_and(|f| f.supports(dto::enums::UpstreamFeature::AuditsIgnores));
                let results = match page.await {
                    Ok(list) => view! { <AuditTable connector_id=id list me/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                };
                view! {
                    <ReconciliationHeader connector tab=Tab::AuditLog/>
                    <LiveRegion id="audit-log">
                        <Filters connector_id=id current audits_ignores/>
                        {results}
                    </LiveRegion>
                }
                .into_any()
            })}
        </Transition>
    }
}

/// The filter bar; "Ignore" is an action to filter by only where the upstream audits ignores.
#[component]
fn Filters(connector_id: ConnectorId, current: ActionQuery, audits_ignores: bool) -> impl IntoView {
    let action = current.action_type.clone().unwrap_or_default();
    let result = current.result.clone().unwrap_or_default();
    let dry = current.dry_run.map(|d| d.to_string()).unwrap_or_default();
    let actions = RemediationAction::ALL
        .iter()
        .map(|a| (a.as_str(), a.label()))
        .chain(audits_ignores.then_some((IGNORE_ACTION, "Ignore")));
    view! {
        <AutoSubmit>
        <form method="get" action=format!("{}/actions", base(connector_id))>
            <div class="mb-4 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm">
                <label class="flex flex-col gap-1">
                    "Action"
                    <select name="action_type" class=INPUT>
                        <option value="" selected=action.is_empty()>"All actions"</option>
                        {actions.map(|(value, label)| view! { <option value=value selected=action == value>{label}</option> }).collect_view()}
                    </select>
                </label>
                <label class="flex flex-col gap-1">
                    "Result"
                    <select name="result" class=INPUT>
                        <option value="" selected=result.is_empty()>"Any result"</option>
                        {ACTION_RESULTS.iter().map(|r| view! { <option value=*r selected=result == *r>{capitalised(r)}</option> }).collect_view()}
                    </select>
                </label>
                <label class="flex flex-col gap-1">
                    "Dry run"
                    <select name="dry_run" class=INPUT>
                        <option value="" selected=dry.is_empty()>"Dry and real"</option>
                        <option value="true" selected=dry == "true">"Dry runs only"</option>
                        <option value="false" selected=dry == "false">"Real changes only"</option>
                    </select>
                </label>
                <button type="submit" class="rounded bg-slate-900 px-3 py-1.5 text-white">"Apply filters"</button>
            </div>
        </form>
        </AutoSubmit>
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// What an entry changed, from its details: our `changes`, or xavyo-idp's `before_state`/`after_state`.
fn entry_changes(a: &ReconciliationAction) -> Option<Vec<crate::api::ChangeLine>> {
    let Some(details) = &a.details else {
        return None;
    };
    if let Some(changes) = details.get("changes") {
        return change_lines(Some(changes));
    }
    let (before, after) = (details.get("before_state"), details.get("after_state"));
    if before.is_some() || after.is_some() {
        let pair = serde_json::json!({ "before": before, "after": after });
        return change_lines(Some(&pair));
    }
    None
}

/// The error of a failed entry, from its details (`error`, or xavyo-idp's `error_message`).
fn entry_error(a: &ReconciliationAction) -> Option<String> {
    let details = a.details.as_ref()?;
    details
        .get("error")
        .or_else(|| details.get("error_message"))
        .and_then(|e| e.as_str())
        .map(str::to_owned)
}

#[component]
fn AuditTable(connector_id: ConnectorId, list: ActionList, me: Option<UserId>) -> impl IntoView {
    let params = use_query_map();
    let href = Callback::new(move |offset: u64| {
        let offset = (offset > 0).then(|| offset.to_string());
        format!(
            "{}/actions{}",
            base(connector_id),
            with_params(&params.get_untracked(), &[("offset", offset)])
        )
    });
    let offset = list.offset.unwrap_or(0);
    let limit = list.limit.unwrap_or(DEFAULT_LIMIT);
    let shown = list.actions.len();
    if list.actions.is_empty() && offset == 0 {
        return view! {
            <p class="rounded border border-dashed border-slate-300 bg-white p-6 text-center text-slate-600">
                "No audit entries match these filters."
            </p>
        }
        .into_any();
    }
    let rows = list
        .actions
        .into_iter()
        .map(|a| {
            let action = a
                .action_type
                .parse::<RemediationAction>()
                .map(|x| x.label().to_owned())
                .unwrap_or_else(|_| capitalised(&a.action_type));
            let direction = a.direction.map(|d| d.label()).unwrap_or("—");
            let changes = entry_changes(&a);
            let error = entry_error(&a).map(|e| view! { <div class="text-xs text-rose-800">{e}</div> });
            let discrepancy = a.discrepancy_id.map(|d| view! { <ShortId id=d.to_string()/> });
            view! {
                <tr class="border-t border-slate-100 align-top">
                    <td class="px-3 py-2 whitespace-nowrap"><Timestamp at=a.performed_at/></td>
                    <td class="px-3 py-2 whitespace-nowrap">
                        {match a.performed_by {
                            // No one: a run that linked an account to its one match on its own.
                            None => view! { <span>"Run"</span> }.into_any(),
                            by => view! { <StartedBy by me/> }.into_any(),
                        }}
                    </td>
                    <td class="px-3 py-2">{action}</td>
                    <td class="px-3 py-2 whitespace-nowrap">{direction}</td>
                    <td class="px-3 py-2" data-result=a.result.clone()>{capitalised(&a.result)}{error}</td>
                    <td class="px-3 py-2">{if a.dry_run { "Yes" } else { "No" }}</td>
                    <td class="px-3 py-2 whitespace-nowrap">{discrepancy}</td>
                    <td class="px-3 py-2"><ChangeList changes/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Reconciliation audit log"</caption>
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th scope="col" class="px-3 py-2">"When"</th>
                        <th scope="col" class="px-3 py-2">"Who"</th>
                        <th scope="col" class="px-3 py-2">"Action"</th>
                        <th scope="col" class="px-3 py-2">"Direction"</th>
                        <th scope="col" class="px-3 py-2">"Result"</th>
                        <th scope="col" class="px-3 py-2">"Dry run"</th>
                        <th scope="col" class="px-3 py-2">"Discrepancy"</th>
                        <th scope="col" class="px-3 py-2">"Before → after"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <Pagination offset limit shown total=Some(list.total) href/>
    }
    .into_any()
}
