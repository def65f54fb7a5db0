//! The 403 and 404 pages (with the matching HTTP status during server rendering).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Shown to a signed-in user who is not an administrator.
#[component]
pub fn ForbiddenPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(&crate::error::AppError::Forbidden);
    view! {
        <Title text="Forbidden"/>
        <main class="mx-auto max-w-xl p-8">
            <h1 class="text-2xl font-semibold">"403 — administrators only"</h1>
            <p class="mt-2 text-slate-700">
                "You are signed in, but your account is not an administrator of this tenant. "
                "Ask an administrator for the admin role, or sign out and use another account."
            </p>
        </main>
    }
}

/// Shown for any path the console does not have.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(&crate::error::AppError::NotFound(String::new()));
    view! {
        <Title text="Not found"/>
        <main class="mx-auto max-w-xl p-8">
            <h1 class="text-2xl font-semibold">"404 — page not found"</h1>
            <p class="mt-2 text-slate-700">"There is nothing at this address."</p>
            <A href="/connectors/operations" attr:class="mt-4 inline-block underline">"Go to the operations queue"</A>
        </main>
    }
}
