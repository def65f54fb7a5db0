//! What the console's HTTP test suites share: a console served on loopback in front of an upstream.

use std::sync::Arc;

use app::ssr::BffState;
use client::{ApiClient, Timeouts};
use leptos::prelude::LeptosOptions;
use server::{AppState, RefreshCoordinator};

/// Serves a console (with its own refresh coordinator) in front of the API at `api_base`; answers its URL.
pub async fn serve_console(api_base: &str, site: app::ssr::PublicSite) -> String {
    let options = LeptosOptions::builder()
        .output_name("console")
        .site_root("target/site")
        .build();
    let state = AppState {
        bff: BffState {
            leptos_options: options,
            api: ApiClient::new(api_base, Timeouts::default()).unwrap(),
            site,
            demo: None,
        },
        refresher: Arc::new(RefreshCoordinator::default()),
        // The test client plays the reverse proxy: its X-Forwarded-For is believed.
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()].into(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            server::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    format!("http://{addr}")
}
