#!/usr/bin/env bash
# The Rust client and the official Python SDK must send the same operations for the
# tutorial's steps (tests/python_parity/parity.rs). Installs the SDK in a virtualenv once.
set -euo pipefail
cd "$(dirname "$0")/../.."
KILI_PYTHON=$(bash .ci/python-venv.sh) KILI_REQUIRE_PYTHON=1 cargo test --test python_parity -- --nocapture
