#!/usr/bin/env bash
# Run the notebooks headless through the "Rust (Zarr)" kernel.
#
#   notebooks/run.sh            # executed copies go to notebooks/executed/
#   notebooks/run.sh --inplace  # refresh the committed notebooks' outputs
#
# With AWS_ENDPOINT_URL set, the notebooks use that endpoint and your credentials. Without it,
# they run on the embedded local default: our own Ceph RGW on 127.0.0.1 (tests/rgw.sh), with a
# throwaway credentials file, stopped when done. Order: 02 writes the array and makes it public,
# 01 reads it anonymously, 03 is the tutorial.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=$here/executed
[[ ${1:-} == --inplace ]] && out=$here
PY=${ZK_PYTHON:-$root/.venv/bin/python}

if [[ -z ${AWS_ENDPOINT_URL:-} ]]; then
  export RGW_DIR=${RGW_DIR:-$(mktemp -d /tmp/zk-nb-rgw.XXXXXX)}
  trap '"$root/tests/rgw.sh" stop' EXIT
  eval "$("$root/tests/rgw.sh" start)"
  creds=$RGW_DIR/aws-credentials
  printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$RGW_ALICE_KEY" "$RGW_ALICE_SECRET" >"$creds"
  chmod 600 "$creds"
  export AWS_SHARED_CREDENTIALS_FILE=$creds AWS_CONFIG_FILE=$RGW_DIR/aws-config
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
  echo "notebooks/run.sh: using the local Ceph RGW at $AWS_ENDPOINT_URL" >&2
fi
export USER=${USER:-$(id -un)}
export ZARR_WRITE_URL=${ZARR_WRITE_URL:-s3://zarrtest-$USER/test.zarr}
export ZARR_READ_URL=${ZARR_READ_URL:-$ZARR_WRITE_URL}
"$PY" "$here/execute.py" "$out" \
  "$here/02-write-random-array-to-object-store.ipynb" \
  "$here/01-read-zarr-from-object-store.ipynb" \
  "$here/03-tutorial-zarr-on-object-storage.ipynb"
echo "notebooks/run.sh: executed notebooks (with their tables and plots) are in $out" >&2
