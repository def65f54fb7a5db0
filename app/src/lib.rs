//! The provisioning operations console: Leptos UI and its server functions.
//!
//! Rendered on the server (`ssr`), hydrated in the browser (`hydrate`). Server functions are the thin BFF:
//! each checks the session and makes one typed call to the provisioning API.

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
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{ParentRoute, Redirect, Route, Router, Routes},
    path, SsrMode,
};

use crate::components::layout::AppLayout;
use crate::pages::{
    connectors::ConnectorsPage, dead_letters::DeadLettersPage, errors::NotFoundPage,
    login::LoginPage, logout::LogoutPage, operation_detail::OperationDetailPage,
    operations::OperationsPage,
};

/// The HTML document around the app; sets the Content-Security-Policy with this response's nonce.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_security_headers();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.ico"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

#[cfg(feature = "ssr")]
fn set_security_headers() {
    use http::{header, HeaderValue};
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce()
        .map(|n| format!(" 'nonce-{n}'"))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{nonce}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The application: routes and the shell around them.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    components::toasts::provide_toasts();
    // Effects run only in the browser: this marks the page as hydrated (tests and styles can rely on it).
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/console.css"/>
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
                </ParentRoute>
            </Routes>
        </Router>
    }
}
