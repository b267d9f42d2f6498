#!/usr/bin/env bash
# The benchmarks, in one command: a loopback Ceph RGW, the Python peers in venvs, the Rust side
# as a release binary (prelude/examples/bench.rs), medians and ratios printed (benches/compare.py).
#
#   benches/run.sh [--reps 5] [--rss-gib 2] [--kernel] [--only ref,small,...]
#
# The RGW has two gateways on one cluster: `tuned` (beast with tcp_nodelay=1) and `stock` (beast
# as Ceph ships it, as a server we do not run may be); every row runs on both.
# Not part of tests/run.sh: it takes minutes and wants a quiet machine. --kernel also times the
# reference write as a cell of the installed "Rust (Zarr)" kernel (./install.sh first).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export ZK_CACHE=${ZK_CACHE:-$HOME/.cache/zarr-kernel}
tests/python/venvs.sh "bench-zarr2=$root/benches/requirements-zarr2.txt" "bench-zarr3=$root/benches/requirements-zarr3.txt"
cargo build --release --locked -p zarr-prelude --example bench
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

export RGW_DIR=$(mktemp -d /tmp/zk-bench-rgw.XXXXXX)
export RGW_STOCK_PORT=${RGW_STOCK_PORT:-18081}
trap 'tests/rgw.sh stop' EXIT
eval "$(tests/rgw.sh start)"
export AWS_ACCESS_KEY_ID=$RGW_ALICE_KEY AWS_SECRET_ACCESS_KEY=$RGW_ALICE_SECRET
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
unset AWS_PROFILE AWS_SESSION_TOKEN
bucket=bench-$(date +%s)
"$target_dir/release/examples/bench" mkdir "$bucket"
# RGW creates its data pools at the first object write (~2 s): not something to time.
"$target_dir/release/examples/bench" write "s3://$bucket/warmup.zarr" 100x100 10x10 float32 none >/dev/null

py=python3
[[ -x $root/.venv/bin/python ]] && py=$root/.venv/bin/python
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); $(rustc --version)" >&2
"$py" benches/compare.py --rust "$target_dir/release/examples/bench" \
  --zarr2 "$ZK_CACHE/venv-bench-zarr2/bin/python" --zarr3 "$ZK_CACHE/venv-bench-zarr3/bin/python" \
  --bucket "$bucket" --server "tuned=$AWS_ENDPOINT_URL" --server "stock=$RGW_STOCK_ENDPOINT" "$@"
