#!/usr/bin/env bash
# The declared minimum supported Rust version (`rust-version` in both manifests) holds:
#
# - for what the code uses of the standard library: clippy's `incompatible_msrv` lint reads
#   `rust-version` and flags any item stabilised after it. .ci/run's clippy step denies it on
#   every target and feature of the workspace, so nothing is built again here; this step only
#   makes sure that no source allows the lint;
# - for the dependencies: every crate that the library or the emulator builds with (normal and
#   build dependencies, every feature, every platform) declares a `rust-version` no newer than
#   ours, read from `cargo metadata` (no build; dev-dependencies only matter to contributors);
# - both manifests and the crate docs name the same version.
#
# Not covered: language features newer than the MSRV, which only that compiler sees. Checking
# with a 1.89 toolchain would be exact, but costs a toolchain download and a second build of
# every dependency (a cold clippy build of the workspace takes about 4 minutes on 2 cores), for
# what the lint already catches in the common case (a new std API) at no build cost.
set -euo pipefail
cd "$(dirname "$0")/../.."

msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
[ -n "$msrv" ] || { echo "no rust-version in Cargo.toml"; exit 1; }
grep -q "^rust-version = \"$msrv\"$" local-server/Cargo.toml \
  || { echo "local-server/Cargo.toml does not declare rust-version $msrv"; exit 1; }
grep -q "^//! Rust $msrv " src/lib.rs \
  || { echo "src/lib.rs's docs do not name Rust $msrv as the minimum"; exit 1; }

if grep -rn --include='*.rs' --include='*.toml' 'incompatible_msrv' \
  src tests examples benches local-server/src local-server/tests local-server/examples; then
  echo "the lines above allow clippy::incompatible_msrv, which the clippy step relies on"
  exit 1
fi

cargo metadata --format-version 1 --locked --all-features | python3 .ci/msrv-deps.py
