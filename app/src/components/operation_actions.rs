//! Retry / Cancel / Resolve, offered only where the operation's status allows them.

use dto::{enums::OperationStatus, OperationId, ProvisioningOperation};
use leptos::prelude::*;

use crate::api::{CancelOperation, ResolveOperation, RetryOperation};
use crate::components::{
    dialog::{ConfirmButton, ResolveButton},
    toasts::{use_toasts, ToastKind},
};
use crate::error::AppError;

/// The three actions on an operation, with toasts; `after` runs when any of them finishes, so the view
/// refetches and shows the fresh state (also after a conflict: someone else changed it first).
#[derive(Clone, Copy)]
pub struct OperationActions {
    retry: ServerAction<RetryOperation>,
    cancel: ServerAction<CancelOperation>,
    resolve: ServerAction<ResolveOperation>,
}

fn report<T: Clone + Send + Sync + 'static>(
    action_value: Signal<Option<Result<T, AppError>>>,
    success: &'static str,
    after: Callback<()>,
) {
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(result) = action_value.get() {
            match result {
                Ok(_) => toasts.push(ToastKind::Success, success),
                Err(AppError::Conflict { message, .. }) => toasts.push(
                    ToastKind::Error,
                    format!("Not done: {message}. The view now shows its current state."),
                ),
                Err(e) => toasts.push(ToastKind::Error, format!("Not done: {e}")),
            }
            after.run(());
        }
    });
}

/// Sets up the actions; call once per view.
pub fn use_operation_actions(after: Callback<()>) -> OperationActions {
    let actions = OperationActions {
        retry: ServerAction::<RetryOperation>::new(),
        cancel: ServerAction::<CancelOperation>::new(),
        resolve: ServerAction::<ResolveOperation>::new(),
    };
    report(
        actions.retry.value().into(),
        "Operation queued for retry.",
        after,
    );
    report(actions.cancel.value().into(), "Operation cancelled.", after);
    report(actions.resolve.value().into(), "Operation resolved.", after);
    actions
}

impl OperationActions {
    /// True while one of the actions runs.
    pub fn pending(self) -> Signal<bool> {
        Signal::derive(move || {
            self.retry.pending().get()
                || self.cancel.pending().get()
                || self.resolve.pending().get()
        })
    }
}

/// The buttons valid for this operation's status.
#[component]
pub fn OperationActionButtons(
    operation: ProvisioningOperation,
    actions: OperationActions,
) -> impl IntoView {
    let id: OperationId = operation.id;
    let status = operation.status;
    let busy = actions.pending();
    let subject = format!(
        "{} operation",
        operation.operation_type.label().to_lowercase()
    );
    view! {
        <div class="flex flex-wrap gap-2" role="group" aria-label="Operation actions">
            {matches!(status, OperationStatus::Failed | OperationStatus::DeadLetter).then(|| view! {
                <button
                    type="button"
                    class="rounded bg-slate-900 px-3 py-1.5 text-sm text-white hover:bg-slate-700 disabled:opacity-50"
                    disabled=move || busy.get()
                    on:click=move |_| { actions.retry.dispatch(RetryOperation { id }); }
                >
                    "Retry"
                </button>
            })}
            {(status == OperationStatus::Pending).then(|| view! {
                <ConfirmButton
                    label="Cancel"
                    title="Cancel this operation?"
                    message="It will not be sent to the connector. This cannot be undone; a new operation would have to be queued."
                    confirm_label="Cancel operation"
                    danger=true
                    disabled=busy
                    on_confirm=Callback::new(move |_| { actions.cancel.dispatch(CancelOperation { id }); })
                />
            })}
            {(status == OperationStatus::DeadLetter).then(|| view! {
                <ResolveButton
                    subject=subject
                    disabled=busy
                    on_resolve=Callback::new(move |notes| { actions.resolve.dispatch(ResolveOperation { id, notes }); })
                />
            })}
        </div>
    }
}
