#!/usr/bin/env bash
# A build without the `demo` feature carries no demo data: the published demo passwords are not in the
# engine's binary, and asking it for demo data is refused at start with a clear message.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p engine --bin engine
bin=target/debug/engine
if grep -q -a "demo-admin-pass" "$bin"; then
  echo "FAIL: the demo password is compiled into $bin" >&2
  exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if out=$("$bin" --database "$dir/engine.db" --bind 127.0.0.1:0 --demo 2>&1); then
  echo "FAIL: a build without demo data started with --demo" >&2
  exit 1
fi
if ! grep -q "this build has no demo data" <<<"$out"; then
  echo "FAIL: unexpected answer to --demo: $out" >&2
  exit 1
fi
echo "ok: no demo data without the demo feature"
