#!/usr/bin/env bash
# Every example builds, the quick start (the README's first code block) runs, and the
# README's first command runs exactly as the README writes it
# (`cargo run --example webhooks`, from a clean environment: without KILI_API_KEY it uses the
# embedded local server). The example checks each step of the tutorial and exits non-zero if
# one fails, which fails this step. The README's other command, `cargo test`, is run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --examples
env -u KILI_API_KEY cargo run --example webhooks
# The quick start is the README's first code block, as it is, and it runs.
python3 .ci/checks/readme_quickstart.py
env -u KILI_API_KEY cargo run --example quickstart
# The SDK's webhooks recipe, end to end on the embedded server; exits 0 only if every step holds.
env -u KILI_API_KEY cargo run --example webhook_recipe
