#!/usr/bin/env bash
# Runs every test layer: unit, engine HTTP, client + BFF against a running engine, components in headless
# Chromium (wasm-bindgen-test), and Playwright against the
# real server's release build. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CHROMEDRIVER=/usr/bin/chromedriver

step() { printf '\n== %s\n' "$*"; }

step "native tests (enums, dto, client, engine, app, server)"
cargo test --workspace --exclude frontend

step "a build without the demo feature holds no demo data"
bash scripts/check_no_demo.sh

step "components in headless Chromium (wasm-bindgen-test)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p app --target wasm32-unknown-unknown --features hydrate

# The release build, the one `scripts/run.sh` serves: release-only failures (a hydration mismatch) show here.
# cargo-leptos builds it once and runs the suite on it; any page or console error fails a test.
step "end to end (Playwright, release build, real server, embedded engine, fresh demo database)"
mkdir -p target/e2e
rm -f target/e2e/engine.*
ENGINE_DATABASE=target/e2e/engine.db ENGINE_BIND=127.0.0.1:3100 DEMO=1 cargo leptos end-to-end --release --precompress --bin-features demo
