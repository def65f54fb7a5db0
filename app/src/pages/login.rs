//! `/login`: email, password and tenant; tokens end up in HttpOnly cookies, never in the page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{demo_hint, Login};
use crate::error::AppError;

/// The sign-in form. Works without JavaScript (a plain form post) and with it (a server action).
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let hint = Resource::new(|| (), |_| demo_hint());
    let error = move || match login.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    let field_error = move |field: &'static str| {
        move || match error() {
            Some(AppError::Validation {
                field: Some(f),
                message,
            }) if f == field => Some(message),
            _ => None,
        }
    };
    let general_error = move || match error() {
        Some(AppError::Validation { field: Some(_), .. }) | None => None,
        Some(e) => Some(e.to_string()),
    };

    view! {
        <Title text="Sign in"/>
        <main class="mx-auto mt-16 max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-xl font-semibold">"Provisioning console"</h1>
            <p class="mb-4 text-sm text-slate-600">"Sign in with your administrator account."</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let hint = hint.await.ok().flatten();
                    let tenant = hint.as_ref().map(|h| h.tenant_id.to_string()).unwrap_or_default();
                    let demo = hint.map(|h| view! {
                        <p class="mb-3 rounded bg-amber-50 p-2 text-xs text-amber-900">
                            "Demo data: sign in as " <code>{h.email}</code> " (the password is printed by the server at start)."
                        </p>
                    });
                    view! {
                        {demo}
                        <ActionForm action=login attr:class="space-y-3">
                            <input type="hidden" name="next" value=next/>
                            <Field label="Email" name="email" kind="email" autocomplete="username" value=String::new() error=field_error("email")/>
                            <Field label="Password" name="password" kind="password" autocomplete="current-password" value=String::new() error=field_error("password")/>
                            <Field label="Tenant" name="tenant" kind="text" autocomplete="organization" value=tenant error=field_error("tenant")/>
                            <p role="alert" class="text-sm text-rose-700">{general_error}</p>
                            <button
                                type="submit"
                                class="w-full rounded bg-slate-900 px-4 py-2 font-medium text-white disabled:opacity-60"
                                disabled=move || login.pending().get()
                            >
                                {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                            </button>
                        </ActionForm>
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Field<E, R>(
    label: &'static str,
    name: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
    error: E,
) -> impl IntoView
where
    E: Fn() -> Option<R> + Send + Sync + Copy + 'static,
    R: IntoView + 'static,
{
    let id = format!("login-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type=kind
                required
                autocomplete=autocomplete
                value=value
                aria-invalid=move || error().is_some().to_string()
                aria-describedby=error_id.clone()
                class="mt-1 w-full rounded border border-slate-300 px-3 py-2"
            />
            <p id=error_id class="text-sm text-rose-700">{error}</p>
        </div>
    }
}
