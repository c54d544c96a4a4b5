#!/usr/bin/env bash
# Creates (once) a virtualenv with the official Kili Python SDK and prints its python's path.
# Usage: PY=$(bash .ci/python-venv.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${KILI_VENV:-$PWD/target/py-venv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import kili' >/dev/null 2>&1; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "kili==26.2.4" >&2
fi
echo "$venv/bin/python"
