//! Retry / Cancel / Resolve, offered only where the operation's status allows them. Retry is a start: a
//! server-rendered command whose answer is the start gate's outcome ([`RetryCommand`]); cancel and resolve ask
//! first, in the island's dialogs.

use dto::{
    enums::{OperationAction, OperationStatus},
    OperationId,
};
use leptos::prelude::*;

use crate::api::{CancelOperation, ResolveOperation};
use crate::components::{
    commands::{CommandForm, Hidden},
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
    let cancel = ServerAction::<CancelOperation>::new();
    let resolve = ServerAction::<ResolveOperation>::new();
    report(cancel.value().into(), "Operation cancelled.");
    report(resolve.value().into(), "Operation resolved.");
    let busy = Signal::derive(move || cancel.pending().get() || resolve.pending().get());

    view! {
        <div class="flex flex-wrap gap-2" role="group" aria-label="Operation actions">
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

/// Whether Retry is offered: the status allows it, and for a `failed` operation (which waits for its next
/// attempt) only when the upstream retries those (`retry_failed`; xavyo-idp retries dead letters only).
pub fn retry_offered(status: OperationStatus, retry_failed: bool) -> bool {
    status.allows(OperationAction::Retry) && (status != OperationStatus::Failed || retry_failed)
}

/// The Retry button of an operation where [`retry_offered`] (nothing otherwise); what came of it shows in
/// the page's element `answer` (a `role="status"` region).
#[component]
pub fn RetryCommand(
    id: OperationId,
    status: OperationStatus,
    answer: &'static str,
    /// Whether the upstream retries `failed` operations.
    retry_failed: bool,
) -> impl IntoView {
    use leptos::server_fn::ServerFn;
    retry_offered(status, retry_failed).then(|| {
        view! {
            <CommandForm endpoint=crate::api::RetryOperation::PATH answer=answer then="refresh"
                aria_label="Retry the operation">
                <Hidden name="id" value=id.to_string()/>
                <button type="submit"
                    class="rounded bg-slate-900 px-3 py-1.5 text-sm text-white hover:bg-slate-700 disabled:opacity-50">
                    "Retry"
                </button>
            </CommandForm>
        }
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn retry_is_offered_only_where_the_status_and_the_upstream_allow_it() {
        let id: OperationId = "00000000-0000-4000-8000-0000000000f1".parse().unwrap();
        for (status, retry_failed) in OperationStatus::ALL
            .into_iter()
            .flat_map(|s| [(s, true), (s, false)])
        {
            let html = Owner::new().with(|| {
                view! { <RetryCommand id status=status answer="retry-outcome" retry_failed/> }
                    .to_html()
            });
            let offered = html.contains(">Retry</button>");
            let expected = status.allows(OperationAction::Retry)
                && (retry_failed || status != OperationStatus::Failed);
            assert_eq!(offered, expected, "{status:?} {retry_failed}: {html}");
            if offered {
                assert!(html.contains(r#"data-answer="retry-outcome""#), "{html}");
                assert!(html.contains(&id.to_string()), "{html}");
            }
        }
    }
}
