#!/usr/bin/env bash
# The project's test command: every test, against real parts.
#
#   tests/run.sh
#
# Installs what is missing (Ceph RGW, Chromium and Slurm from Debian, the Python venvs), starts a
# Ceph RGW on 127.0.0.1, runs the Rust unit and integration tests, the zarr-python interop tests,
# the scale-out tests (Dask, dask-gateway, Slurm on loopback), the kernel through jupyter_client,
# JupyterLab in headless Chromium and the notebooks, and stops the servers whatever happens.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export ZK_CACHE=${ZK_CACHE:-$HOME/.cache/zarr-kernel}

need_rust() {
  command -v cargo >/dev/null || { echo "run.sh: cargo not found; install Rust >= 1.95 (rustup)" >&2; exit 1; }
  local v; v=$(rustc --version | awk '{print $2}')
  if [[ $(printf '%s\n1.95.0\n' "$v" | sort -V | head -1) != 1.95.0 ]]; then
    echo "run.sh: rustc $v is too old; need >= 1.95 (rustup update)" >&2; exit 1
  fi
}
need_rust
tests/python/venvs.sh
tests/python/venvs.sh "lab=$root/tests/lab/requirements.txt"
# icechunk-python 2.x needs Python >= 3.12.
ice_python=$(tests/python/python-3.12.sh || true)
if [[ -n $ice_python ]]; then
  PYTHON=$ice_python tests/python/venvs.sh "icechunk=$root/tests/icechunk/requirements.txt"
fi
export ZK_ARTIFACTS=${ZK_ARTIFACTS:-$root/tests/artifacts}
# Debian's Chromium for the JupyterLab test (as root; elsewhere that test says it is skipped).
if ! command -v chromium >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  echo "== installing Chromium from Debian"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# Debian's Slurm for the scale-out tests (as root; elsewhere those tests say they are skipped).
if ! command -v slurmctld >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  echo "== installing Slurm (slurmctld, slurmd) from Debian"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client >/dev/null
fi

echo "== the prelude's layers (tests/layers.py: no upward import, no cycle, no long file)"
python3 tests/layers.py
python3 tests/layers.py --self-test

echo "== build"
cargo build --workspace --all-targets --locked

echo "== install the kernel into a test prefix (builds the kernel server and the template once per machine)"
export ZK_TEST_PREFIX=${ZK_TEST_PREFIX:-/opt/rust-zarr-kernel-test}
tests/kernel/setup_prefix.sh

echo "== start Ceph RGW on loopback"
export RGW_DIR=${RGW_DIR:-$(mktemp -d /tmp/zk-rgw.XXXXXX)}
trap 'tests/rgw.sh stop' EXIT
rgw_env=$(tests/rgw.sh start) || { echo "tests/run.sh: Ceph RGW did not start (above)" >&2; exit 1; }
eval "$rgw_env"
export ZARR_PRELUDE_REQUIRE_RGW=1
# botocore >= 1.36 sends aws-chunked uploads with trailing checksums, which RGW rejects.
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required

run_tests() {
  local status=0
  echo "== Rust tests (unit, RGW integration, faults; figures shown)"
  cargo test --workspace --locked -- --show-output || status=1
  echo "== kernel server unit tests (display markers, offsets)"
  CARGO_TARGET_DIR=$ZK_CACHE/server-target cargo test --release --locked --manifest-path kernel/server/Cargo.toml || status=1
  echo "== the patched engine's unit tests (evcxr's own, and the patches' engine lines)"
  CARGO_TARGET_DIR=$ZK_CACHE/server-target cargo test --release --locked --manifest-path kernel/server/Cargo.toml \
    -p evcxr --lib || status=1

  echo "== interop: zarr-python 2 and 3, dask"
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  export INTEROP_BIN=$target_dir/debug/examples/interop
  for v in zarr2 zarr3; do
    echo "-- $v"
    "$ZK_CACHE/venv-$v/bin/python" -m pytest -q -p no:cacheprovider tests/python || status=1
  done
  echo "== Icechunk: the prelude's repositories against icechunk-python"
  if [[ -n $ice_python ]]; then
    "$ZK_CACHE/venv-icechunk/bin/python" -m pytest -q -p no:cacheprovider tests/icechunk || status=1
  else
    echo "FAILED: no python3.12 or python3.13 for icechunk-python 2.x; install one (pyenv install 3.12)" >&2
    status=1
  fi

  # Twice: every server these tests start, they stop, so a second run on the same machine and
  # the same RGW must pass as well (start-up races show up there).
  for round in 1 2; do
    echo "== scale-out, run $round of 2: Dask (scheduler + 3 workers, dask-gateway), Slurm (slurmctld + 3 slurmd), on loopback"
    # The installed kernel drives some of them with cells (its user functions on the workers).
    JUPYTER_PATH=$ZK_TEST_PREFIX/share/jupyter "$ZK_CACHE/venv-zarr3/bin/python" -m pytest -q -p no:cacheprovider tests/cluster || status=1
  done

  echo "== the kernel, through jupyter_client"
  JUPYTER_PATH=$ZK_TEST_PREFIX/share/jupyter "$ZK_TEST_PREFIX/venv/bin/python" -m pytest -q -p no:cacheprovider tests/kernel || status=1

  echo "== JupyterLab in headless Chromium: live bars rendered in place (screenshots in $ZK_ARTIFACTS)"
  JUPYTER_PATH=$ZK_TEST_PREFIX/share/jupyter "$ZK_CACHE/venv-lab/bin/python" -m pytest -q -p no:cacheprovider tests/lab || status=1

  echo "== the notebooks, headless through the kernel (nbclient)"
  JUPYTER_PATH=$ZK_TEST_PREFIX/share/jupyter "$ZK_TEST_PREFIX/venv/bin/python" -m pytest -q -p no:cacheprovider tests/notebooks || status=1
  return $status
}

# Everything the tests print is kept, then searched for the servers' secrets: none may leak.
log=$(mktemp /tmp/zk-test-output.XXXXXX)
status=0
run_tests 2>&1 | tee "$log" || status=1
echo "== secrets in the test output"
if grep -F -q -e "$RGW_ALICE_SECRET" -e "$RGW_BOB_SECRET" "$log"; then
  echo "FAILED: a secret key appears in the test output ($log)"; status=1
else
  echo "none ($(wc -l <"$log") lines checked)"; rm -f "$log"
fi
exit $status
