#!/usr/bin/env bash
# Prints the console's performance figures: release WASM/JS/CSS weight, the operations page through the BFF,
# and the engine's benchmarks. Release builds; takes several minutes the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
SKIP_BROWSER=1 bash scripts/setup.sh

step() { printf '\n== %s\n' "$*"; }

step "release build"
cargo leptos build --release --precompress --bin-features demo

step "weight of what a browser downloads (raw, and the precompressed files the server sends)"
for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
  printf '%-46s %8d B raw %8d B gzip %8d B brotli\n' "$(basename "$f")" "$(wc -c <"$f")" \
    "$(wc -c <"$f.gz" 2>/dev/null || echo 0)" "$(wc -c <"$f.br" 2>/dev/null || echo 0)"
done

step "operations page through the BFF (release server, embedded engine, demo data)"
dir=$(mktemp -d)
LEPTOS_SITE_ADDR=127.0.0.1:3100 LEPTOS_OUTPUT_NAME=console LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_HASH_FILES=true \
  ENGINE_DATABASE="$dir/engine.db" DEMO=1 RUST_LOG=warn target/release/server >"$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:3100/healthz >/dev/null && break; sleep 0.2; done
python3 scripts/bench_bff.py http://127.0.0.1:3100 300

step "first load in a throttled browser (10 Mbit/s, 40 ms RTT, CPU 4x slower)"
node scripts/bench_first_load.mjs http://127.0.0.1:3100 5

step "engine benchmarks"
cargo bench -p engine
