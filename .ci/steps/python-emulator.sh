#!/usr/bin/env bash
# The official Kili Python SDK (unmodified, full start-up checks, empty HOME) runs its everyday
# flows against the kili-local-server binary and checks what it reads back: raw text and local
# files uploaded through signed URLs and served back byte for byte, json_content, metadata,
# predictions with their model name, updated asset properties, deleted labels, error paths,
# and the webhooks recipe (a webhook POSTing to a receiver in the script, issues, send back to
# queue, plugin logs).
# The server runs on a data file, and is stopped with SIGTERM at the end: it must exit 0.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --quiet -p kili-local-server
PY=$(bash .ci/python-venv.sh)
# The SDK measures local images with the `image` extra (imagesize) before importing them.
"$PY" -c 'import imagesize' 2>/dev/null \
  || "$PY" -m pip install -q --disable-pip-version-check "kili[image]==26.2.4" >&2

work=$(mktemp -d)
server=""
forbidding=""
cleanup() {
  for pid in $server $forbidding; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts the binary with "$@" (output in $work/$name.out), in this shell so that `wait`
# can read its exit status; its pid goes in $started.
start() {
  local name=$1; shift
  "${CARGO_TARGET_DIR:-target}/debug/kili-local-server" --port 0 "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  started=$!
}
# Prints the endpoint the binary announces (waits up to 10 s for it).
endpoint_of() {
  local name=$1 pid=$2 endpoint=""
  for _ in $(seq 1 100); do
    endpoint=$(sed -n 's/^endpoint: //p' "$work/$name.out")
    [ -n "$endpoint" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "kili-local-server exited early:" >&2; cat "$work/$name.err" >&2; return 1; }
    sleep 0.1
  done
  [ -n "$endpoint" ] || { echo "kili-local-server printed no endpoint" >&2; return 1; }
  echo "$endpoint"
}

start main --data-file "$work/kili.jsonl"
server=$started
start forbidding --no-upload-local-data
forbidding=$started
endpoint=$(endpoint_of main "$server")
key=$(sed -n 's/^api key: //p' "$work/main.out")
forbidding_endpoint=$(endpoint_of forbidding "$forbidding")
forbidding_key=$(sed -n 's/^api key: //p' "$work/forbidding.out")
echo "local server at $endpoint (and one without uploadLocalData at $forbidding_endpoint)"

env -u KILI_SDK_SKIP_CHECKS NO_PROXY=127.0.0.1,localhost timeout 100 \
  "$PY" tests/python/emulator_sdk.py "$endpoint" "$key" "$forbidding_endpoint" "$forbidding_key"

# A clean stop on SIGTERM, with the data kept in the file.
kill -TERM "$server"
status=0
timeout 10 tail --pid="$server" -f /dev/null || status=$?
wait "$server" || status=$?
server=""
[ "$status" -eq 0 ] || { echo "kili-local-server did not stop cleanly ($status):"; cat "$work/main.err"; exit 1; }
grep -q '"type":"labels"' "$work/kili.jsonl" || { echo "the data file holds no labels"; exit 1; }
echo "kili-local-server stopped cleanly on SIGTERM"
