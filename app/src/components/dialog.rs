//! Modal dialogs on the native `<dialog>` element: focus is trapped and Escape closes, for free.

use leptos::{html, prelude::*};

fn open(dialog: NodeRef<html::Dialog>) {
    if let Some(d) = dialog.get() {
        let _ = d.show_modal();
    }
}

fn close(dialog: NodeRef<html::Dialog>) {
    if let Some(d) = dialog.get() {
        d.close();
    }
}

pub(crate) const DIALOG_CLASS: &str =
    "w-full max-w-md rounded-lg border border-slate-200 p-0 shadow-xl backdrop:bg-slate-900/40";
pub(crate) const BUTTON: &str = "rounded border border-slate-300 bg-white px-3 py-1.5 text-sm hover:bg-slate-100 disabled:opacity-50";
pub(crate) const PRIMARY: &str =
    "rounded bg-slate-900 px-3 py-1.5 text-sm text-white hover:bg-slate-700 disabled:opacity-50";
pub(crate) const DANGER: &str =
    "rounded bg-rose-700 px-3 py-1.5 text-sm text-white hover:bg-rose-600 disabled:opacity-50";

/// A button that asks for confirmation in a dialog before it acts.
#[component]
pub fn ConfirmButton(
    /// The button's text.
    #[prop(into)]
    label: String,
    /// The dialog's title.
    #[prop(into)]
    title: String,
    /// What will happen, in a sentence.
    #[prop(into)]
    message: String,
    /// The confirming button's text.
    #[prop(into)]
    confirm_label: String,
    /// Called once confirmed.
    on_confirm: Callback<()>,
    /// Whether the action destroys or abandons work (red confirm button).
    #[prop(optional)]
    danger: bool,
    /// Disables the button (e.g. while the action runs).
    #[prop(into, optional)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let title_id = format!("confirm-{}", label.to_lowercase().replace(' ', "-"));
    let labelled_by = title_id.clone();
    view! {
        <button type="button" class=BUTTON disabled=move || disabled.get() on:click=move |_| open(dialog)>
            {label}
        </button>
        <dialog node_ref=dialog class=DIALOG_CLASS aria-labelledby=labelled_by>
            <div class="space-y-3 p-5">
                <h2 id=title_id class="text-lg font-semibold">{title}</h2>
                <p class="text-sm text-slate-700">{message}</p>
                <div class="flex justify-end gap-2">
                    <button type="button" class=BUTTON autofocus on:click=move |_| close(dialog)>"Keep it"</button>
                    <button
                        type="button"
                        class=if danger { DANGER } else { PRIMARY }
                        on:click=move |_| {
                            close(dialog);
                            on_confirm.run(());
                        }
                    >
                        {confirm_label}
                    </button>
                </div>
            </div>
        </dialog>
    }
}

/// A button opening a dialog that asks for resolution notes.
#[component]
pub fn ResolveButton(
    /// Names what is being resolved, for the dialog's title.
    #[prop(into)]
    subject: String,
    /// Called with the notes once confirmed.
    on_resolve: Callback<String>,
    /// Disables the button.
    #[prop(into, optional)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let notes = RwSignal::new(String::new());
    let id = format!(
        "resolve-{}",
        subject.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let title_id = format!("{id}-title");
    let notes_id = format!("{id}-notes");
    let labelled_by = title_id.clone();
    view! {
        <button type="button" class=BUTTON disabled=move || disabled.get() on:click=move |_| open(dialog)>
            "Resolve"
        </button>
        <dialog node_ref=dialog class=DIALOG_CLASS aria-labelledby=labelled_by>
            <form
                method="dialog"
                class="space-y-3 p-5"
                on:submit=move |ev| {
                    ev.prevent_default();
                    close(dialog);
                    on_resolve.run(notes.get_untracked());
                    notes.set(String::new());
                }
            >
                <h2 id=title_id class="text-lg font-semibold">{format!("Resolve {subject}")}</h2>
                <p class="text-sm text-slate-700">
                    "The operation leaves the dead-letter queue and will not run again. Say what was done about it."
                </p>
                <label for=notes_id.clone() class="block text-sm font-medium">"Resolution notes"</label>
                <textarea
                    id=notes_id
                    rows="4"
                    maxlength=dto::MAX_RESOLUTION_NOTES.to_string()
                    class="w-full rounded border border-slate-300 p-2 text-sm"
                    prop:value=move || notes.get()
                    on:input=move |ev| notes.set(event_target_value(&ev))
                ></textarea>
                <div class="flex justify-end gap-2">
                    <button type="button" class=BUTTON on:click=move |_| close(dialog)>"Cancel"</button>
                    <button type="submit" class=PRIMARY>"Resolve operation"</button>
                </div>
            </form>
        </dialog>
    }
}
