#!/usr/bin/env bash
# The official Kili Python SDK (unmodified, full start-up checks, empty HOME) runs the webhooks
# tutorial against the kili-local-server binary. Fails if the script fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --quiet -p kili-local-server
PY=$(bash .ci/python-venv.sh)

out=$(mktemp)
home=$(mktemp -d)
"${CARGO_TARGET_DIR:-target}/debug/kili-local-server" --port 0 >"$out" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$out" "$home"' EXIT

endpoint=""
for _ in $(seq 1 100); do
  endpoint=$(sed -n 's/^endpoint: //p' "$out")
  [ -n "$endpoint" ] && break
  kill -0 "$server" 2>/dev/null || { echo "kili-local-server exited early"; exit 1; }
  sleep 0.1
done
[ -n "$endpoint" ] || { echo "kili-local-server printed no endpoint"; exit 1; }
key=$(sed -n 's/^api key: //p' "$out")
echo "local server at $endpoint"

env -u KILI_SDK_SKIP_CHECKS HOME="$home" timeout 300 "$PY" tests/python/tutorial_sdk.py "$endpoint" "$key"
