#!/usr/bin/env bash
# Reliability: the property tests (arbitrary bytes, JSON, HTTP responses, WebSocket frames and
# GraphQL documents against the client, the subscription and the local server, and exactly-once
# delivery under random interleavings) again, with more cases than `cargo test` uses, bounded
# in time, then the soaks that `cargo test` leaves out. The README's `cargo test` step built
# them.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PROPTEST_CASES="${PROPTEST_CASES:-128}"
timeout 90 cargo test --quiet --test decoding
timeout 60 cargo test --quiet -p kili-local-server --test server -- fuzz::
# Exactly once under random creates, updates, deletes, cuts and restarts, against the strict
# server modes: each case runs real sockets and restarts, so fewer cases than the decoders
# (64 take about 20 s here).
PROPTEST_CASES="${PROPTEST_CASES_EXACTLY_ONCE:-64}" timeout 240 \
  cargo test --quiet --test subscriptions -- property::
# The soaks (ignored by `cargo test`): watch_labels, and slow consumers (a slow reader of its
# stdout, a sleeping callback), stopped by SIGKILL and SIGTERM in turn behind a proxy cutting
# every connection, on the strictest server; a minute each (about 2 min 10 s here).
cargo build --quiet --example watch_labels
timeout 300 cargo test --quiet --test reliability -- soak:: --ignored --nocapture --test-threads 1
