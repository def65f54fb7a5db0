//! `/login`: email, password and tenant; tokens end up in HttpOnly cookies, never in the page.
//!
//! A plain HTML form, with or without the WASM: the browser posts it to the `login` server function, which
//! answers with a redirect, to the page asked for (signed in) or back here with the error in the URL, for
//! which this page shows its own sentence beside the field it concerns (never text from the URL). No code of
//! this page ships to the browser.

use leptos::prelude::*;
use leptos::server_fn::{error::ServerFnUrlError, ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{demo_hint, Login};
use crate::error::AppError;

const LOGIN_URL: &str = <Login as ServerFn>::PATH;

/// What the page says about the error a failed sign-in sent back in its URL: a sentence of its own, beside
/// the field it concerns (`None`: the form as a whole). The URL is anyone's to write, so nothing of it is
/// shown: a code the page does not know reads as a generic failure.
fn error_message(error: &AppError) -> (Option<&'static str>, String) {
    match error {
        AppError::SignIn(problem) => (problem.field(), problem.to_string()),
        AppError::Unavailable(_) => (
            None,
            "The provisioning service cannot be reached right now. Try again in a moment."
                .to_owned(),
        ),
        _ => (None, "Sign-in failed. Try again.".to_owned()),
    }
}

/// The sign-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let (next, error) = {
        let query = query.read_untracked();
        let error = query
            .get_str("__err")
            .filter(|_| query.get_str("__path") == Some(LOGIN_URL))
            .map(|e| error_message(&ServerFnUrlError::<AppError>::decode_err(e)));
        (query.get("next").unwrap_or_default(), error)
    };
    let field_error = |field: &str| match &error {
        Some((Some(f), message)) if *f == field => Some(message.clone()),
        _ => None,
    };
    let (email_error, password_error, tenant_error) = (
        field_error("email"),
        field_error("password"),
        field_error("tenant"),
    );
    let general_error = match &error {
        Some((None, message)) => Some(message.clone()),
        _ => None,
    };
    // A failed sign-in keeps what was typed but the password.
    #[cfg(feature = "ssr")]
    let remembered = crate::ssr::remembered_login();
    #[cfg(not(feature = "ssr"))]
    let remembered: Option<(String, String)> = None;
    let hint = Resource::new(|| (), |_| demo_hint());
    view! {
        <Title text="Sign in"/>
        <main class="mx-auto mt-16 max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-xl font-semibold">"Provisioning console"</h1>
            <p class="mb-4 text-sm text-slate-600">"Sign in with your administrator account."</p>
            <Suspense fallback=|| ()>
                {move || {
                    let (next, email_error, password_error, tenant_error, general_error, remembered) = (
                        next.clone(),
                        email_error.clone(),
                        password_error.clone(),
                        tenant_error.clone(),
                        general_error.clone(),
                        remembered.clone(),
                    );
                    Suspend::new(async move {
                        let hint = hint.await.ok().flatten();
                        let (email, tenant) = remembered.unwrap_or_else(|| {
                            (String::new(), hint.as_ref().map(|h| h.tenant_id.to_string()).unwrap_or_default())
                        });
                        let demo = hint.map(|h| view! {
                            <p class="mb-3 rounded bg-amber-50 p-2 text-xs text-amber-900">
                                "Demo data: sign in as " <code>{h.email}</code> " (the password is printed by the server at start)."
                            </p>
                        });
                        view! {
                            {demo}
                            <form method="post" action=LOGIN_URL class="space-y-3">
                                <input type="hidden" name="next" value=next/>
                                <Field label="Email" name="email" kind="email" autocomplete="username" value=email
                                    maxlength=dto::MAX_EMAIL_CHARS error=email_error/>
                                <Field label="Password" name="password" kind="password" autocomplete="current-password" value=String::new()
                                    maxlength=dto::MAX_PASSWORD_BYTES error=password_error/>
                                <Field label="Tenant" name="tenant" kind="text" autocomplete="organization" value=tenant error=tenant_error/>
                                <p role="alert" class="text-sm text-rose-700">{general_error}</p>
                                <button type="submit" class="w-full rounded bg-slate-900 px-4 py-2 font-medium text-white">
                                    "Sign in"
                                </button>
                            </form>
                        }
                    })
                }}
            </Suspense>
        </main>
    }
}

#[component]
fn Field(
    label: &'static str,
    name: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
    /// The longest input the sign-in takes (the browser counts characters; the server checks bytes too).
    #[prop(optional)]
    maxlength: Option<usize>,
    error: Option<String>,
) -> impl IntoView {
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
                maxlength=maxlength
                value=value
                aria-invalid=error.is_some().to_string()
                aria-describedby=error_id.clone()
                class="mt-1 w-full rounded border border-slate-300 px-2 py-2"
            />
            <p id=error_id class="text-sm text-rose-700">{error}</p>
        </div>
    }
}
