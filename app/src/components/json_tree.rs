//! A JSON value shown formatted, with objects and arrays collapsible.

use leptos::prelude::*;
use serde_json::Value;

/// Renders `value` as an indented tree; every object and array is a `<details>` that starts open.
#[component]
pub fn JsonTree(value: Value) -> impl IntoView {
    view! { <div class="overflow-x-auto rounded border border-slate-200 bg-slate-50 p-3 font-mono text-xs">{node(None, value)}</div> }
}

fn scalar(value: &Value) -> (String, &'static str) {
    match value {
        Value::Null => ("null".to_owned(), "text-slate-500"),
        Value::Bool(b) => (b.to_string(), "text-violet-700"),
        Value::Number(n) => (n.to_string(), "text-sky-700"),
        Value::String(s) => (
            serde_json::to_string(s).unwrap_or_default(),
            "text-emerald-800",
        ),
        Value::Array(_) | Value::Object(_) => (String::new(), ""),
    }
}

fn node(key: Option<String>, value: Value) -> AnyView {
    let key_view = key.map(|k| view! { <span class="text-slate-700">{format!("{k}: ")}</span> });
    match value {
        Value::Object(map) => {
            let summary = format!(
                "{{{} {}}}",
                map.len(),
                if map.len() == 1 { "key" } else { "keys" }
            );
            let children = map.into_iter().map(|(k, v)| view! { <li>{node(Some(serde_json::to_string(&k).unwrap_or(k)), v)}</li> }).collect_view();
            view! {
                <details open>
                    <summary class="cursor-pointer">{key_view}<span class="text-slate-500">{summary}</span></summary>
                    <ul class="ml-5 border-l border-slate-200 pl-2">{children}</ul>
                </details>
            }
            .into_any()
        }
        Value::Array(items) => {
            let summary = format!(
                "[{} {}]",
                items.len(),
                if items.len() == 1 { "item" } else { "items" }
            );
            let children = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| view! { <li>{node(Some(i.to_string()), v)}</li> })
                .collect_view();
            view! {
                <details open>
                    <summary class="cursor-pointer">{key_view}<span class="text-slate-500">{summary}</span></summary>
                    <ul class="ml-5 border-l border-slate-200 pl-2">{children}</ul>
                </details>
            }
            .into_any()
        }
        other => {
            let (text, class) = scalar(&other);
            view! { <span>{key_view}<span class=class>{text}</span></span> }.into_any()
        }
    }
}
