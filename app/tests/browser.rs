//! Components rendered in a real browser (headless Chromium through chromedriver).
//! Run: CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!      CHROMEDRIVER=/usr/bin/chromedriver \
//!      cargo test -p app --target wasm32-unknown-unknown --features hydrate
#![cfg(target_arch = "wasm32")]

use app::components::{
    dialog::ConfirmButton,
    json_tree::JsonTree,
    operations::{OperationStatusBadge, QueueStatsCards},
    toasts::{toast, ToastKind, ToastRegion},
};
use dto::{enums::OperationStatus, QueueStatistics};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn container() -> web_sys::HtmlElement {
    let document = document();
    let section = document.create_element("section").unwrap();
    document.body().unwrap().append_child(&section).unwrap();
    section.unchecked_into()
}

#[wasm_bindgen_test]
fn stats_cards_show_counts_and_na_without_completions() {
    let root = container();
    let stats = QueueStatistics {
        pending: 5,
        failed: 3,
        dead_letter: 1,
        ..Default::default()
    };
    let _handle = leptos::mount::mount_to(
        root.clone(),
        move || view! { <QueueStatsCards stats=stats.clone()/> },
    );

    let value = |label: &str| {
        root.query_selector(&format!("[data-stat=\"{label}\"]"))
            .unwrap()
            .expect(label)
            .text_content()
            .unwrap()
    };
    assert_eq!(value("Pending"), "5");
    assert_eq!(value("Failed"), "3");
    assert_eq!(value("Dead letter"), "1");
    assert_eq!(value("Average time"), "N/A");
}

#[wasm_bindgen_test]
fn status_badge_says_the_status_in_words() {
    let root = container();
    let _handle = leptos::mount::mount_to(
        root.clone(),
        || view! { <OperationStatusBadge status=OperationStatus::DeadLetter/> },
    );
    let badge = root.query_selector("[data-status]").unwrap().unwrap();
    assert_eq!(
        badge.get_attribute("data-status").as_deref(),
        Some("dead_letter")
    );
    assert_eq!(badge.text_content().unwrap(), "Dead letter");
}

#[wasm_bindgen_test]
async fn toasts_appear_and_can_be_dismissed() {
    let root = container();
    // The region is an island of its own: other islands reach it through `toast`, a window event.
    let _handle = leptos::mount::mount_to(root.clone(), || {
        view! {
            <button id="notify" on:click=move |_| toast(ToastKind::Success, "Operation queued for retry")>"notify"</button>
            <ToastRegion/>
        }
    });
    let region = root
        .query_selector("[aria-live]")
        .unwrap()
        .expect("live region");
    assert_eq!(region.text_content().unwrap(), "");

    root.query_selector("#notify")
        .unwrap()
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    leptos::task::tick().await;
    assert!(region
        .text_content()
        .unwrap()
        .contains("Operation queued for retry"));

    root.query_selector("[aria-label=\"Dismiss notification\"]")
        .unwrap()
        .expect("dismiss button")
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    leptos::task::tick().await;
    assert!(!region.text_content().unwrap().contains("Operation queued"));
}

fn click(root: &web_sys::HtmlElement, selector: &str) {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("{selector} not found"))
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
}

#[wasm_bindgen_test]
async fn confirm_button_asks_before_acting() {
    let root = container();
    let confirmed = RwSignal::new(0);
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <ConfirmButton
                label="Cancel"
                title="Cancel this operation?"
                message="It will not run."
                confirm_label="Cancel operation"
                danger=true
                on_confirm=Callback::new(move |_| confirmed.update(|n| *n += 1))
            />
        }
    });
    let dialog = root
        .query_selector("dialog")
        .unwrap()
        .unwrap()
        .unchecked_into::<web_sys::HtmlDialogElement>();
    assert!(!dialog.open());

    click(&root, "button");
    assert!(dialog.open(), "the dialog opens first");
    assert_eq!(
        confirmed.get_untracked(),
        0,
        "nothing happens before confirmation"
    );

    click(&root, "dialog button[autofocus]");
    assert!(!dialog.open());
    assert_eq!(confirmed.get_untracked(), 0, "keeping it does nothing");

    click(&root, "button");
    let buttons = dialog.query_selector_all("button").unwrap();
    buttons
        .item(1)
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    leptos::task::tick().await;
    assert!(!dialog.open());
    assert_eq!(confirmed.get_untracked(), 1);
}

#[wasm_bindgen_test]
fn json_tree_formats_and_folds() {
    let root = container();
    let value =
        serde_json::json!({"mail": "jdoe@example.com", "groups": ["staff", "vpn"], "active": true});
    let _handle = leptos::mount::mount_to(
        root.clone(),
        move || view! { <JsonTree value=value.clone()/> },
    );
    let text = root.text_content().unwrap();
    assert!(text.contains("\"mail\": \"jdoe@example.com\""), "{text}");
    assert!(text.contains("[2 items]"), "{text}");
    assert!(text.contains("true"));
    assert_eq!(
        root.query_selector_all("details").unwrap().length(),
        2,
        "object and array fold"
    );
}
