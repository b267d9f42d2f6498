#!/usr/bin/env bash
# The scale-out benchmark (benches/cluster.py): release builds of the cluster example and
# zarr-task, a loopback Ceph RGW (tests/rgw.sh, stopped at the end), Dask and Slurm from the
# scale-out test setup (tests/cluster/conftest.py; Slurm needs root and Debian's slurm-wlm).
#
#   benches/cluster.sh [--steps 365]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export ZK_CACHE=${ZK_CACHE:-$HOME/.cache/zarr-kernel}
cargo build --release --locked -p zarr-prelude --example cluster --bin zarr-task
tests/python/venvs.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export RGW_DIR=${RGW_DIR:-$(mktemp -d /tmp/zk-rgw-bench.XXXXXX)}
trap 'tests/rgw.sh stop' EXIT
eval "$(tests/rgw.sh start)"
export AWS_ACCESS_KEY_ID=$RGW_ALICE_KEY AWS_SECRET_ACCESS_KEY=$RGW_ALICE_SECRET
"$ZK_CACHE/venv-zarr3/bin/python" benches/cluster.py --bin "$target_dir/release" "$@"
