//! The signed-in shell: header (tenant, user, sign out), sidebar, toasts, and the 403 gate.

use leptos::prelude::*;
use leptos_router::{
    components::{Outlet, A},
    hooks::use_location,
};

use crate::api::{signed_in_user, Logout, SignedInUser};
use crate::components::{common::ErrorPanel, toasts::ToastRegion};
use crate::pages::errors::ForbiddenPage;

/// The sidebar: only pages that exist.
const NAV: [(&str, &str); 7] = [
    ("/connectors/operations", "Operations"),
    ("/connectors/operations/dlq", "Dead letter queue"),
    ("/connectors/reconciliation", "Reconciliation"),
    ("/connectors/reconciliation/schedules", "Schedules"),
    ("/connectors/reconciliation/trend", "Discrepancy trend"),
    ("/connectors/conflicts", "Conflicts"),
    ("/connectors", "Connectors"),
];

/// The sidebar entry a path belongs to: the most specific entry it is under, and a connector's
/// reconciliation pages (`/connectors/{id}/reconciliation/...`) under "Reconciliation".
fn nav_entry(path: &str) -> Option<&'static str> {
    let reconciliation = path
        .strip_prefix("/connectors/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(_, rest)| rest == "reconciliation" || rest.starts_with("reconciliation/"));
    if reconciliation {
        return Some("/connectors/reconciliation");
    }
    NAV.iter()
        .map(|(h, _)| *h)
        .filter(|h| path == *h || path.starts_with(&format!("{h}/")))
        .max_by_key(|h| h.len())
}

/// The page frame for every signed-in route. Non-administrators get the 403 page instead of the outlet.
#[component]
pub fn AppLayout() -> impl IntoView {
    // The user is read from the request at once, not awaited: a page inside a `Suspense` is built again each
    // time the suspense walks its children, and each build started all of the page's upstream reads again
    // (every read was made two or three times per page load).
    let frame = match signed_in_user() {
        Ok(user) if user.is_admin => view! { <Frame user/> }.into_any(),
        Ok(user) => view! { <Header user/><ForbiddenPage/> }.into_any(),
        Err(error) => {
            view! { <main class="mx-auto max-w-xl p-8"><ErrorPanel error/></main> }.into_any()
        }
    };
    view! {
        {frame}
        <ToastRegion/>
    }
}

#[component]
fn Frame(user: SignedInUser) -> impl IntoView {
    let location = use_location();
    // The most specific entry wins: "/connectors" is current only on the connectors list itself.
    let current =
        move |href: &str| (nav_entry(&location.pathname.get()) == Some(href)).then_some("page");
    view! {
        <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:p-2">"Skip to content"</a>
        <Header user/>
        <div class="flex min-h-[calc(100vh-3.5rem)]">
            <nav aria-label="Main" class="w-56 shrink-0 border-r border-slate-200 bg-white p-3">
                <ul class="space-y-1">
                    {NAV
                        .iter()
                        .map(|(href, label)| {
                            let href = *href;
                            view! {
                                <li>
                                    // A plain link: the router still navigates client-side, and `A` would add its
                                    // own prefix-matched aria-current ("/connectors" would mark every page).
                                    <a
                                        href=href
                                        aria-current=move || current(href)
                                        class="block rounded px-3 py-2 text-sm hover:bg-slate-100 aria-[current=page]:bg-slate-900 aria-[current=page]:text-white"
                                    >
                                        {*label}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <main id="main" class="min-w-0 flex-1 p-6">
                <Outlet/>
            </main>
        </div>
    }
}

#[component]
fn Header(user: SignedInUser) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <header class="flex h-14 items-center justify-between border-b border-slate-200 bg-white px-4">
            <A href="/connectors/operations" attr:class="font-semibold">"Provisioning console"</A>
            <div class="flex items-center gap-4 text-sm">
                <span title="Tenant">
                    <span class="text-slate-500">"Tenant "</span>
                    <code data-testid="tenant">{user.tenant_id.to_string()}</code>
                </span>
                <span data-testid="user">{user.email.clone()}</span>
                <ActionForm action=logout>
                    <button type="submit" class="rounded border px-3 py-1 hover:bg-slate-100">"Sign out"</button>
                </ActionForm>
            </div>
        </header>
    }
}

#[cfg(test)]
mod tests {
    use super::nav_entry;

    #[test]
    fn each_page_marks_its_sidebar_entry() {
        for (path, entry) in [
            ("/connectors/operations", "/connectors/operations"),
            ("/connectors/operations/0b1c", "/connectors/operations"),
            ("/connectors/operations/dlq", "/connectors/operations/dlq"),
            ("/connectors/conflicts", "/connectors/conflicts"),
            ("/connectors/conflicts/3e4f", "/connectors/conflicts"),
            ("/connectors", "/connectors"),
            ("/connectors/reconciliation", "/connectors/reconciliation"),
            (
                "/connectors/0b1c/reconciliation",
                "/connectors/reconciliation",
            ),
            (
                "/connectors/0b1c/reconciliation/runs/7a",
                "/connectors/reconciliation",
            ),
            (
                "/connectors/0b1c/reconciliation/discrepancies",
                "/connectors/reconciliation",
            ),
            (
                "/connectors/0b1c/reconciliation/schedule",
                "/connectors/reconciliation",
            ),
            (
                "/connectors/reconciliation/schedules",
                "/connectors/reconciliation/schedules",
            ),
            (
                "/connectors/reconciliation/trend",
                "/connectors/reconciliation/trend",
            ),
        ] {
            assert_eq!(nav_entry(path), Some(entry), "{path}");
        }
        assert_eq!(nav_entry("/login"), None);
    }
}
