#!/usr/bin/env bash
# The library under each TLS choice alone, lint-clean: native-tls without the default rustls,
# and no TLS at all (plain http:// and ws://). Their cfg branches are compiled nowhere else:
# the other steps build the default features, or all of them. The library only: the tests and
# examples add nothing feature-specific. Reuses the dependencies the clippy step checked; only
# ureq, tungstenite and this crate are checked again (measured: 11 s on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo clippy --quiet -p kili --lib --no-default-features --features native-tls -- -D warnings
cargo clippy --quiet -p kili --lib --no-default-features -- -D warnings
