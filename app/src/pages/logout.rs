//! `/logout`: a confirmation with a sign-out button (signing out is a POST, never a GET).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::Logout;

/// Asks to confirm signing out.
#[component]
pub fn LogoutPage() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <Title text="Sign out"/>
        <h1 class="text-2xl font-semibold">"Sign out"</h1>
        <p class="mt-2 text-slate-700">"End your session on this browser?"</p>
        <ActionForm action=logout attr:class="mt-4">
            <button type="submit" class="rounded bg-slate-900 px-4 py-2 text-white">"Sign out"</button>
        </ActionForm>
    }
}
