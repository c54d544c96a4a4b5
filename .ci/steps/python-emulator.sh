#!/usr/bin/env bash
# The official Kili Python SDK (unmodified, full start-up checks, empty HOME) runs its everyday
# flows against the kili-local-server binary and checks what it reads back: raw text and local
# files uploaded through signed URLs and served back byte for byte, json_content, metadata,
# predictions with their model name, updated asset properties, deleted labels, error paths.
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
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"${CARGO_TARGET_DIR:-target}/debug/kili-local-server" --port 0 --data-file "$work/kili.jsonl" \
  >"$work/out" 2>"$work/err" &
server=$!

endpoint=""
for _ in $(seq 1 100); do
  endpoint=$(sed -n 's/^endpoint: //p' "$work/out")
  [ -n "$endpoint" ] && break
  kill -0 "$server" 2>/dev/null || { echo "kili-local-server exited early:"; cat "$work/err"; exit 1; }
  sleep 0.1
done
[ -n "$endpoint" ] || { echo "kili-local-server printed no endpoint"; exit 1; }
key=$(sed -n 's/^api key: //p' "$work/out")
echo "local server at $endpoint"

env -u KILI_SDK_SKIP_CHECKS NO_PROXY=127.0.0.1,localhost timeout 100 \
  "$PY" tests/python/emulator_sdk.py "$endpoint" "$key"

# A clean stop on SIGTERM, with the data kept in the file.
kill -TERM "$server"
status=0
timeout 10 tail --pid="$server" -f /dev/null || status=$?
wait "$server" || status=$?
server=""
[ "$status" -eq 0 ] || { echo "kili-local-server did not stop cleanly ($status):"; cat "$work/err"; exit 1; }
grep -q '"type":"labels"' "$work/kili.jsonl" || { echo "the data file holds no labels"; exit 1; }
echo "kili-local-server stopped cleanly on SIGTERM"
