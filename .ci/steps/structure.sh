#!/usr/bin/env bash
# The shape the code keeps: no import loop between the files of either crate (arrows run one
# way, layer by layer), and no function longer than a reader can hold (70 lines). Both read
# the sources as text; they build nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 .ci/checks/import_cycles.py src local-server/src
python3 .ci/checks/fn_length.py 70 src local-server/src
