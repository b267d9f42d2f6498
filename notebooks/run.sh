#!/usr/bin/env bash
# Run the notebooks headless through the "Rust (Zarr)" kernel.
#
#   notebooks/run.sh            # executed copies go to notebooks/executed/
#   notebooks/run.sh --inplace  # refresh the committed notebooks' outputs
#   notebooks/run.sh --local    # use a local directory store, even where RGW could run
#
# With AWS_ENDPOINT_URL set, the notebooks use that endpoint and your credentials. Without it,
# they run on the embedded local default: our own Ceph RGW on 127.0.0.1 (tests/rgw.sh), with a
# throwaway credentials file, stopped when done. Where RGW cannot run (no Ceph installed and no
# root to install it), a local directory store (endpoint file:///…) stands in for the server.
# Order: 02 writes the array and makes it public, 01 reads it anonymously, 03 is the tutorial,
# 04 the lazy arrays (dask.array's part), 05 datasets (xarray's part).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${ZK_NOTEBOOK_OUT:-$here/executed}
mode=auto
for arg in "$@"; do
  case $arg in
    --inplace) out=$here ;;
    --local) mode=local ;;
    *) echo "usage: notebooks/run.sh [--inplace] [--local]" >&2; exit 2 ;;
  esac
done
PY=${ZK_PYTHON:-$root/.venv/bin/python}
work=
cleanup() {
  if [[ -n ${RGW_DIR:-} && -f ${RGW_DIR}/ceph.conf ]]; then "$root/tests/rgw.sh" stop; fi
  if [[ -n $work ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT

# Credentials only exist for the server we start: never the user's own.
isolate_credentials() {
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3
  export AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials AWS_CONFIG_FILE=$work/aws-config
}

if [[ -z ${AWS_ENDPOINT_URL:-} ]]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/zk-notebooks.XXXXXX")
  isolate_credentials
  if [[ $mode == auto ]]; then
    export RGW_DIR=$work/rgw
    if env_lines=$("$root/tests/rgw.sh" start); then
      eval "$env_lines"
      printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
        "$RGW_ALICE_KEY" "$RGW_ALICE_SECRET" >"$AWS_SHARED_CREDENTIALS_FILE"
      chmod 600 "$AWS_SHARED_CREDENTIALS_FILE"
      echo "notebooks/run.sh: using the local Ceph RGW at $AWS_ENDPOINT_URL" >&2
    else
      echo "notebooks/run.sh: the local Ceph RGW cannot run here (see above); using a local directory store instead" >&2
      unset RGW_DIR
      mode=local
    fi
  fi
  if [[ $mode == local ]]; then
    mkdir -p "$work/store"
    export AWS_ENDPOINT_URL=file://$work/store AWS_REGION=RegionOne
    echo "notebooks/run.sh: using the local directory store $work/store (removed when done)" >&2
  fi
elif [[ $mode == local ]]; then
  echo "notebooks/run.sh: --local conflicts with AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL; unset one" >&2
  exit 2
fi
export USER=${USER:-$(id -un)}
# Notebook 05's setup has xarray write the dataset it opens: a Python with xarray, zarr and s3fs
# (the interop tests' zarr-python 3 venv, made once if missing).
if [[ -z ${ZARR_XARRAY_PYTHON:-} ]]; then
  "$root/tests/python/venvs.sh" "zarr3=$root/tests/python/requirements-zarr3.txt"
  export ZARR_XARRAY_PYTHON=${ZK_CACHE:-$HOME/.cache/zarr-kernel}/venv-zarr3/bin/python
fi
export ZARR_WRITE_URL=${ZARR_WRITE_URL:-s3://zarrtest-$USER/test.zarr}
export ZARR_READ_URL=${ZARR_READ_URL:-$ZARR_WRITE_URL}
"$PY" "$here/execute.py" "$out" \
  "$here/02-write-random-array-to-object-store.ipynb" \
  "$here/01-read-zarr-from-object-store.ipynb" \
  "$here/03-tutorial-zarr-on-object-storage.ipynb" \
  "$here/04-lazy-arrays-climate.ipynb" \
  "$here/05-datasets-the-xarray-way.ipynb" \
  "$here/06-versioned-zarr-icechunk.ipynb"
echo "notebooks/run.sh: executed notebooks (with their tables and plots) are in $out" >&2
