#!/usr/bin/env bash
# Runs the console with the embedded engine and demo data: http://127.0.0.1:3000 (the login is printed).
# Installs what is missing first; safe to run again. Set UPSTREAM_URL to use a real xavyo-idp instead.
set -euo pipefail
cd "$(dirname "$0")/.."
SKIP_BROWSER=1 bash scripts/setup.sh
export DEMO="${DEMO:-1}"
exec cargo leptos serve --release --precompress --bin-features demo
