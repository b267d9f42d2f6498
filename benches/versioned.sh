#!/usr/bin/env bash
# Plain Zarr v3 against an Icechunk repository, Rust and Python side by side
# (benches/versioned.py), on a loopback Ceph RGW started and stopped here.
#
#   benches/versioned.sh [--steps 64] [--reps 3]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export ZK_CACHE=${ZK_CACHE:-$HOME/.cache/zarr-kernel}
py=$(tests/python/python-3.12.sh) || { echo "versioned.sh: icechunk-python needs Python >= 3.12" >&2; exit 1; }
PYTHON=$py tests/python/venvs.sh "bench-icechunk=$root/benches/requirements-icechunk.txt"
cargo build -q --release -p zarr-prelude --example icechunk --example interop
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export ICECHUNK_BIN=$target/release/examples/icechunk INTEROP_BIN=$target/release/examples/interop
export RGW_DIR=${RGW_DIR:-$(mktemp -d /tmp/zk-rgw-bench.XXXXXX)}
trap 'tests/rgw.sh stop' EXIT
eval "$(tests/rgw.sh start)"
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
"$ZK_CACHE/venv-bench-icechunk/bin/python" benches/versioned.py "$@"
