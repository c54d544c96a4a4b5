#!/usr/bin/env bash
# What the published crates would hold (`cargo package --list`, which builds nothing): the
# manifest, the README, the sources and both licenses (local-server's copies identical to the
# root's), and no CI script, no Python file, no test certificate or key.
set -euo pipefail
cd "$(dirname "$0")/../.."

for license in LICENSE-MIT LICENSE-APACHE; do
  cmp -s "$license" "local-server/$license" \
    || { echo "local-server/$license differs from $license"; exit 1; }
done

for crate in kili kili-local-server; do
  list=$(cargo package --list --allow-dirty --quiet -p "$crate")
  for want in Cargo.toml README.md LICENSE-MIT LICENSE-APACHE src/lib.rs; do
    grep -qx "$want" <<<"$list" || { echo "$crate does not ship $want"; exit 1; }
  done
  if grep -E '^\.ci/|\.py$|\.pem$|\.key$|^tests/data/|^benches/' <<<"$list"; then
    echo "$crate ships the files above"
    exit 1
  fi
  echo "$crate: $(wc -l <<<"$list") files"
done
