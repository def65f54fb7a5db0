//! Conflict views, all rendered on the server: the type, status and affected attributes, the conflicts table,
//! one operation of a conflict as a card, and the resolve dialog — a [`CommandForm`] posting to its server
//! function (see [commands](super::commands)), offered only while the conflict is pending. Nothing here
//! reaches the browser's WASM.

use dto::{
    enums::{ConflictOutcome, ConflictType},
    ConflictId, ProvisioningConflict, ProvisioningOperation, MAX_CONFLICT_NOTES,
};
use leptos::prelude::*;

use crate::components::{
    commands::{CommandForm, Hidden},
    common::{ShortId, Timestamp},
    dialog::{BUTTON, DIALOG_CLASS, PRIMARY},
    json_tree::JsonTree,
    operations::OperationStatusBadge,
};

const BADGE: &str = "inline-block whitespace-nowrap rounded px-2 py-0.5 text-xs font-medium";

/// The link to a conflict's page.
pub fn conflict_href(id: ConflictId) -> String {
    format!("/connectors/conflicts/{id}")
}

/// A conflict's type in words; one the console does not know (an upstream may send others) as sent.
pub fn conflict_type_text(conflict: &ProvisioningConflict) -> String {
    conflict
        .kind()
        .map_or_else(|| conflict.conflict_type.clone(), |k| k.label().to_owned())
}

/// A conflict's status, coloured; the text, not the colour, carries the meaning.
#[component]
pub fn ConflictStatusBadge(pending: bool, outcome: Option<ConflictOutcome>) -> impl IntoView {
    let (text, colour) = match (pending, outcome) {
        (true, _) => ("Pending".to_owned(), "bg-amber-100 text-amber-900"),
        (false, Some(outcome)) => (
            format!("Resolved: {}", outcome.label().to_lowercase()),
            "bg-emerald-100 text-emerald-900",
        ),
        (false, None) => ("Resolved".to_owned(), "bg-emerald-100 text-emerald-900"),
    };
    view! { <span class=format!("{BADGE} {colour}")>{text}</span> }
}

/// The attributes both operations change; none listed means the whole account (e.g. two deletes).
#[component]
pub fn AffectedAttributes(attributes: Vec<String>) -> impl IntoView {
    if attributes.is_empty() {
        return view! { <span class="text-slate-600">"the whole account"</span> }.into_any();
    }
    view! {
        <ul class="flex flex-wrap gap-1" aria-label="Affected attributes">
            {attributes.into_iter().map(|a| view! {
                <li><code class="rounded bg-slate-100 px-1">{a}</code></li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// The conflicts of a page: type (linking to the conflict), affected attributes, status, when detected, the
/// two operations, and for a pending one its resolve dialog.
#[component]
pub fn ConflictsTable(conflicts: Vec<ProvisioningConflict>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Provisioning conflicts"</caption>
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th scope="col" class="px-3 py-2">"Type"</th>
                        <th scope="col" class="px-3 py-2">"Affected attributes"</th>
                        <th scope="col" class="px-3 py-2">"Status"</th>
                        <th scope="col" class="px-3 py-2">"Detected"</th>
                        <th scope="col" class="px-3 py-2">"Operations"</th>
                        <th scope="col" class="px-3 py-2">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {conflicts.into_iter().map(|c| {
                        let kind = conflict_type_text(&c);
                        let subject = format!("{} conflict", kind.to_lowercase());
                        let pending = c.is_pending();
                        let later = c.operation_id_b.map(|b| view! {
                            " held: "
                            <a class="underline" href=format!("/connectors/operations/{b}")><ShortId id=b.to_string()/></a>
                        });
                        view! {
                            <tr class="border-t border-slate-100 align-top">
                                <td class="px-3 py-2"><a class="underline" href=conflict_href(c.id)>{kind}</a></td>
                                <td class="px-3 py-2"><AffectedAttributes attributes=c.affected_attributes.clone()/></td>
                                <td class="px-3 py-2"><ConflictStatusBadge pending outcome=c.outcome/></td>
                                <td class="px-3 py-2 whitespace-nowrap"><Timestamp at=c.created_at/></td>
                                <td class="px-3 py-2 whitespace-nowrap">
                                    "earlier: "
                                    <a class="underline" href=format!("/connectors/operations/{}", c.operation_id_a)><ShortId id=c.operation_id_a.to_string()/></a>
                                    {later}
                                </td>
                                <td class="px-3 py-2">
                                    {pending.then(|| view! { <ResolveConflictDialog id=c.id subject holds=c.operation_id_b.is_some()/> })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A button opening the dialog that resolves the conflict `id`: an outcome (what each does to the held
/// operation is said next to it) and notes. After a success the dialog closes and the page's live regions
/// re-render. Render it only for a pending conflict.
#[component]
pub fn ResolveConflictDialog(
    id: ConflictId,
    /// What is resolved, in words (`concurrent update conflict`).
    #[prop(into)]
    subject: String,
    /// Whether the conflict names a held operation (xavyo-idp may record a conflict with one operation).
    holds: bool,
) -> impl IntoView {
    use crate::api::ResolveProvisioningConflict;
    use leptos::server_fn::ServerFn;
    let dialog = format!("resolve-{id}");
    let title_id = format!("{dialog}-title");
    let notes_id = format!("{dialog}-notes");
    let labelled_by = title_id.clone();
    let outcomes = ConflictOutcome::ALL
        .iter()
        .map(|o| {
            let fate = match (holds, o.releases_held()) {
                (false, _) => String::new(),
                (true, true) => " (the held operation runs)".to_owned(),
                (true, false) => " (the held operation is cancelled)".to_owned(),
            };
            view! { <option value=o.as_str()>{format!("{}{fate}", o.label())}</option> }
        })
        .collect_view();
    view! {
        <button type="button" class=BUTTON data-open-dialog=dialog.clone()>"Resolve"</button>
        <dialog id=dialog class=DIALOG_CLASS aria-labelledby=labelled_by>
            <CommandForm endpoint=ResolveProvisioningConflict::PATH then="close refresh" class="space-y-3 p-5">
                <Hidden name="id" value=id.to_string()/>
                <h2 id=title_id class="text-lg font-semibold">{format!("Resolve the {subject}")}</h2>
                <label class="flex flex-col gap-1 text-sm">
                    "Outcome"
                    <select name="outcome" class="rounded border border-slate-300 px-2 py-1">{outcomes}</select>
                </label>
                <label for=notes_id.clone() class="block text-sm">"Notes"</label>
                <textarea id=notes_id name="notes" rows="4" maxlength=MAX_CONFLICT_NOTES.to_string()
                    class="w-full rounded border border-slate-300 p-2 text-sm"></textarea>
                <p role="alert" class="text-sm text-rose-900" data-problem hidden></p>
                <div class="flex justify-end gap-2">
                    <button type="button" class=BUTTON data-close>"Cancel"</button>
                    <button type="submit" class=PRIMARY>"Resolve conflict"</button>
                </div>
            </CommandForm>
        </dialog>
    }
}

/// One operation of a conflict, with a link to its page; `None` when the upstream did not say which it is
/// or it could not be read (`problem` says why).
#[component]
pub fn ConflictOperationCard(
    /// `Earlier operation` or `Held operation`.
    title: &'static str,
    operation: Option<ProvisioningOperation>,
    /// Why the operation is not shown, when it is not.
    #[prop(into)]
    problem: String,
    /// The connectors' names by id (the operation may not carry its connector's name: xavyo-idp's do not).
    names: std::collections::HashMap<dto::ConnectorId, String>,
) -> impl IntoView {
    let heading = title.to_lowercase().replace(' ', "-");
    let labelled_by = heading.clone();
    let body = match operation {
        None => view! { <p class="text-sm text-slate-600">{problem}</p> }.into_any(),
        Some(op) => {
            let href = format!("/connectors/operations/{}", op.id);
            let label = format!("Open the {}", title.to_lowercase());
            view! {
                <dl class="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
                    <dt class="text-slate-500">"Type"</dt><dd>{op.operation_type.label()}</dd>
                    <dt class="text-slate-500">"Status"</dt><dd><OperationStatusBadge status=op.status/></dd>
                    <dt class="text-slate-500">"Connector"</dt><dd>{crate::components::operations::connector_label(&op, &names)}</dd>
                    <dt class="text-slate-500">"Account"</dt><dd><code>{op.target_uid.clone().unwrap_or_else(|| "not set".to_owned())}</code></dd>
                    <dt class="text-slate-500">"Queued"</dt><dd><Timestamp at=op.created_at/></dd>
                </dl>
                <h4 class="mt-3 text-sm font-medium">"Payload"</h4>
                {match op.payload.clone() {
                    Some(payload) => view! { <JsonTree value=payload/> }.into_any(),
                    None => view! { <p class="text-sm text-slate-600">"not provided"</p> }.into_any(),
                }}
                <p class="mt-3 text-sm"><a class="underline" href=href aria-label=label>{format!("Operation {}", op.id)}</a></p>
            }
            .into_any()
        }
    };
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby=labelled_by>
            <h3 id=heading class="mb-2 font-semibold">{title}</h3>
            {body}
        </section>
    }
}

/// The filter choices of a conflict type: every known one.
pub fn type_options(selected: Option<ConflictType>) -> impl IntoView {
    ConflictType::ALL
        .iter()
        .map(|t| view! { <option value=t.as_str() selected=selected == Some(*t)>{t.label()}</option> })
        .collect_view()
}

#[cfg(all(test, feature = "ssr"))]
mod render_tests {
    //! The views as the server renders them: resolving is offered only while pending, every outcome with what
    //! it does, the notes' shared limit, and data escaped.
    use super::*;
    use chrono::{TimeZone, Utc};

    fn id<T: std::str::FromStr>(n: u128) -> T
    where
        T::Err: std::fmt::Debug,
    {
        format!("00000000-0000-4000-8000-{n:012}").parse().unwrap()
    }

    fn html<V: IntoView + 'static>(view: impl FnOnce() -> V) -> String {
        Owner::new().with(|| view().into_view().to_html())
    }

    fn conflict(outcome: Option<ConflictOutcome>, kind: &str) -> ProvisioningConflict {
        ProvisioningConflict {
            id: id(1),
            tenant_id: None,
            operation_id_a: id(2),
            operation_id_b: Some(id(3)),
            conflict_type: kind.to_owned(),
            affected_attributes: vec!["title".into(), "<b>x</b>".into()],
            status: if outcome.is_some() {
                "resolved"
            } else {
                "pending"
            }
            .into(),
            outcome,
            notes: None,
            created_at: Utc.with_ymd_and_hms(2026, 11, 20, 10, 5, 0).unwrap(),
            resolved_at: None,
            resolved_by: None,
        }
    }

    #[test]
    fn resolving_is_offered_only_while_pending() {
        let pending = html(
            || view! { <ConflictsTable conflicts=vec![conflict(None, "concurrent_update")]/> },
        );
        assert!(pending.contains(">Resolve<"), "{pending}");
        assert!(pending.contains("Pending"));
        assert!(pending.contains("Concurrent update"));
        assert!(pending.contains("/connectors/conflicts/00000000-0000-4000-8000-000000000001"));
        assert!(pending.contains("/connectors/operations/00000000-0000-4000-8000-000000000002"));
        assert!(pending.contains("/connectors/operations/00000000-0000-4000-8000-000000000003"));
        assert!(pending.contains("&lt;b&gt;x&lt;/b&gt;") && !pending.contains("<b>x</b>"));

        let resolved = html(|| {
            view! { <ConflictsTable conflicts=vec![conflict(Some(ConflictOutcome::Merged), "something_new")]/> }
        });
        assert!(!resolved.contains(">Resolve<"), "{resolved}");
        assert!(!resolved.contains("<dialog"));
        assert!(resolved.contains("Resolved: merged"));
        assert!(resolved.contains("something_new"), "unknown types as sent");
    }

    #[test]
    fn the_dialog_offers_every_outcome_with_its_effect_and_the_notes_limit() {
        let out = html(
            || view! { <ResolveConflictDialog id=id(1) subject="concurrent update conflict" holds=true/> },
        );
        for outcome in ConflictOutcome::ALL {
            assert!(
                out.contains(&format!("value=\"{outcome}\"")),
                "{outcome}: {out}"
            );
        }
        assert_eq!(out.matches("the held operation runs").count(), 2);
        assert_eq!(out.matches("the held operation is cancelled").count(), 2);
        assert!(out.contains(&format!("maxlength=\"{MAX_CONFLICT_NOTES}\"")));
        assert!(out.contains("data-then=\"close refresh\""));
        assert!(out.contains("name=\"notes\"") && out.contains("name=\"id\""));

        // A conflict with one operation holds none: no outcome promises anything of a held operation.
        let single = html(
            || view! { <ResolveConflictDialog id=id(1) subject="missing target conflict" holds=false/> },
        );
        assert!(!single.contains("held operation"), "{single}");
        for outcome in ConflictOutcome::ALL {
            assert!(
                single.contains(&format!("value=\"{outcome}\"")),
                "{outcome}: {single}"
            );
        }
    }

    #[test]
    fn no_attributes_means_the_whole_account() {
        let out = html(|| view! { <AffectedAttributes attributes=vec![]/> });
        assert!(out.contains("the whole account"));
    }
}
