#!/usr/bin/env bash
# A user's function over the 365×720×1440 f4 time series (benches/user_map.py): the Rust closure
# in the kernel alone and on Dask (2 workers), against dask running the same function in Python
# (numpy ufuncs; numba). The kernel from tests/kernel/setup_prefix.sh, a loopback Ceph RGW
# (started and stopped here), Dask from the scale-out test setup.
#
#   benches/user_map.sh [--steps 365] [--reps 3]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export ZK_CACHE=${ZK_CACHE:-$HOME/.cache/zarr-kernel}
export ZK_TEST_PREFIX=${ZK_TEST_PREFIX:-/opt/rust-zarr-kernel-test}
tests/kernel/setup_prefix.sh >/dev/null
tests/python/venvs.sh "bench-numba=$root/benches/requirements-numba.txt"
export RGW_DIR=${RGW_DIR:-$(mktemp -d /tmp/zk-rgw-bench.XXXXXX)}
trap 'tests/rgw.sh stop' EXIT
eval "$(tests/rgw.sh start)"
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
JUPYTER_PATH=$ZK_TEST_PREFIX/share/jupyter "$ZK_CACHE/venv-bench-numba/bin/python" benches/user_map.py "$@"
