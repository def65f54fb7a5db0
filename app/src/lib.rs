//! The provisioning operations console: Leptos UI and its server functions.
//!
//! Islands architecture: pages are rendered on the server only (`ssr`); the interactive parts are
//! `#[island]`s, the only code compiled to WASM and hydrated in the browser (`hydrate`). Server functions
//! are the thin BFF: each checks the session and makes one typed call to the provisioning API. See
//! `specs/architecture.md`.

// Leptos view types nest deeply; rendering them needs more than the default query depth.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
pub mod params;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Redirect, Route, Router, Routes},
    path, SsrMode,
};

use crate::components::layout::AppLayout;
use crate::pages::{
    conflict_detail::ConflictDetailPage,
    conflicts::ConflictsPage,
    connectors::ConnectorsPage,
    dead_letters::DeadLettersPage,
    errors::NotFoundPage,
    login::LoginPage,
    logout::LogoutPage,
    operation_detail::OperationDetailPage,
    operations::OperationsPage,
    reconciliation::{
        actions::ReconciliationActionsPage, discrepancies::DiscrepanciesPage,
        overview::ReconciliationOverviewPage, run_detail::RunDetailPage,
        runs::ReconciliationRunsPage, schedule::ConnectorSchedulePage, schedules::SchedulesPage,
        trend::TrendPage,
    },
};

/// The HTML document around the app. Its scripts carry the request's nonce; the server's CSP layer sends
/// the matching Content-Security-Policy.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.ico"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body class="bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

/// The application: routes and the shell around them.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| format!("{page} · Provisioning console")/>
        <Router>
            <Routes fallback=|| view! { <NotFoundPage/> }>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=AppLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=|| view! { <Redirect path="/connectors/operations"/> }/>
                    <Route path=path!("/logout") view=LogoutPage/>
                    <Route path=path!("/connectors") view=ConnectorsPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/operations") view=OperationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/operations/dlq") view=DeadLettersPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/operations/:id") view=OperationDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/reconciliation") view=ReconciliationOverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/:id/reconciliation") view=ReconciliationRunsPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/:id/reconciliation/runs/:run_id") view=RunDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/:id/reconciliation/discrepancies") view=DiscrepanciesPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/:id/reconciliation/actions") view=ReconciliationActionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/reconciliation/schedules") view=SchedulesPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/reconciliation/trend") view=TrendPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/:id/reconciliation/schedule") view=ConnectorSchedulePage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/conflicts") view=ConflictsPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors/conflicts/:id") view=ConflictDetailPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
