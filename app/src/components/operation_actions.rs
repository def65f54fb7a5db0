//! Retry / Cancel / Resolve, offered only where the operation's status allows them.

use dto::{
    enums::{OperationAction, OperationStatus},
    OperationId,
};
use leptos::prelude::*;

use crate::api::{CancelOperation, ResolveOperation, RetryOperation};
use crate::components::{
    dialog::{ConfirmButton, ResolveButton},
    live::request_refresh,
    toasts::{toast, ToastKind},
};
use crate::error::AppError;

/// Reports an action's outcome as a toast, then re-renders the page's live regions from the server so they
/// show the fresh state (also after a conflict: someone else changed it first).
fn report<T: Clone + Send + Sync + 'static>(
    action_value: Signal<Option<Result<T, AppError>>>,
    success: &'static str,
) {
    Effect::new(move |_| {
        if let Some(result) = action_value.get() {
            match result {
                Ok(_) => toast(ToastKind::Success, success),
                Err(AppError::Conflict { message, .. }) => toast(
                    ToastKind::Error,
                    format!("Not done: {message}. The view now shows its current state."),
                ),
                Err(e) => toast(ToastKind::Error, format!("Not done: {e}")),
            }
            request_refresh();
        }
    });
}

/// The buttons valid for an operation in `status`; `subject` names it in the resolve dialog
/// ("create operation").
#[island]
pub fn OperationActionButtons(
    id: OperationId,
    status: OperationStatus,
    subject: String,
) -> impl IntoView {
    let retry = ServerAction::<RetryOperation>::new();
    let cancel = ServerAction::<CancelOperation>::new();
    let resolve = ServerAction::<ResolveOperation>::new();
    report(retry.value().into(), "Operation queued for retry.");
    report(cancel.value().into(), "Operation cancelled.");
    report(resolve.value().into(), "Operation resolved.");
    let busy = Signal::derive(move || {
        retry.pending().get() || cancel.pending().get() || resolve.pending().get()
    });

    view! {
        <div class="flex flex-wrap gap-2" role="group" aria-label="Operation actions">
            {status.allows(OperationAction::Retry).then(|| view! {
                <button
                    type="button"
                    class="rounded bg-slate-900 px-3 py-1.5 text-sm text-white hover:bg-slate-700 disabled:opacity-50"
                    disabled=move || busy.get()
                    on:click=move |_| { retry.dispatch(RetryOperation { id }); }
                >
                    "Retry"
                </button>
            })}
            {status.allows(OperationAction::Cancel).then(|| view! {
                <ConfirmButton
                    label="Cancel"
                    title="Cancel this operation?"
                    message="It will not be sent to the connector. This cannot be undone; a new operation would have to be queued."
                    confirm_label="Cancel operation"
                    danger=true
                    disabled=busy
                    on_confirm=Callback::new(move |_| { cancel.dispatch(CancelOperation { id }); })
                />
            })}
            {status.allows(OperationAction::Resolve).then(|| view! {
                <ResolveButton
                    subject=subject
                    disabled=busy
                    on_resolve=Callback::new(move |notes| { resolve.dispatch(ResolveOperation { id, notes }); })
                />
            })}
        </div>
    }
}
