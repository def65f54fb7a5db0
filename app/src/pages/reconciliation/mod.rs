//! Reconciliation pages: the connectors to choose from, and per connector its runs, one run with its report,
//! the discrepancies, and the audit log.

pub mod actions;
pub mod discrepancies;
pub mod overview;
pub mod run_detail;
pub mod runs;
pub mod schedule;
pub mod schedules;
pub mod trend;

use dto::{Connector, ConnectorId};
use leptos::prelude::*;
use leptos_router::{hooks::use_params_map, params::ParamsMap};

use crate::error::AppError;

/// The connector named by the path's `id`; a malformed one is a 404, like an unknown one.
pub(crate) fn connector_param(params: &ParamsMap) -> Result<ConnectorId, AppError> {
    let raw = params.get("id").unwrap_or_default();
    raw.parse().map_err(|_| {
        AppError::NotFound(format!(
            "There is no connector `{raw}`: connector ids are UUIDs."
        ))
    })
}

/// The connector named by the path, and the connector itself: what every per-connector reconciliation page
/// starts from.
#[allow(clippy::type_complexity)]
pub(crate) fn path_connector() -> (
    Memo<Result<ConnectorId, AppError>>,
    Resource<Result<Connector, AppError>>,
) {
    let params = use_params_map();
    let connector_id = Memo::new(move |_| connector_param(&params.read()));
    let connector = Resource::new(
        move || connector_id.get(),
        |id| async move { crate::api::get_connector(id?).await },
    );
    (connector_id, connector)
}

/// The base path of a connector's reconciliation pages.
pub(crate) fn base(connector: ConnectorId) -> String {
    format!("/connectors/{connector}/reconciliation")
}

/// Which of a connector's reconciliation pages a page is (its tab).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The runs list (and a run).
    Runs,
    /// The discrepancies.
    Discrepancies,
    /// The audit log.
    AuditLog,
    /// The schedule.
    Schedule,
}

/// Breadcrumb, the connector's name as the heading, and the tabs between its reconciliation pages.
#[component]
pub fn ReconciliationHeader(
    connector: Connector,
    tab: Tab,
    /// The crumb after the connector's, when the page is deeper than a tab (a run).
    #[prop(optional, into)]
    crumb: Option<String>,
) -> impl IntoView {
    let base = base(connector.id);
    let tabs = [
        (Tab::Runs, base.clone(), "Runs"),
        (
            Tab::Discrepancies,
            format!("{base}/discrepancies"),
            "Discrepancies",
        ),
        (Tab::AuditLog, format!("{base}/actions"), "Audit log"),
        (Tab::Schedule, format!("{base}/schedule"), "Schedule"),
    ];
    let here = crumb.is_none();
    view! {
        <nav aria-label="Breadcrumb" class="mb-2 text-sm">
            <a href="/connectors/reconciliation" class="underline">"Reconciliation"</a>
            " / "
            {match crumb {
                Some(crumb) => view! { <a href=base.clone() class="underline">{connector.name.clone()}</a>" / "<span aria-current="page">{crumb}</span> }.into_any(),
                None => view! { <span aria-current="page">{connector.name.clone()}</span> }.into_any(),
            }}
        </nav>
        <div class="mb-4 flex flex-wrap items-end justify-between gap-3">
            <h1 class="text-2xl font-semibold">{format!("Reconciliation: {}", connector.name)}</h1>
            <nav aria-label="Reconciliation pages" class="flex gap-1 text-sm">
                {tabs
                    .into_iter()
                    .map(|(t, href, label)| {
                        let current = (here && t == tab).then_some("page");
                        view! {
                            <a
                                href=href
                                aria-current=current
                                class="block rounded px-3 py-2 text-sm hover:bg-slate-100 aria-[current=page]:bg-slate-900 aria-[current=page]:text-white"
                            >
                                {label}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
        </div>
    }
}
