#!/usr/bin/env bash
# Make (or reuse) the Python venvs the interop tests and benchmarks use:
#   $ZK_CACHE/venv-zarr2  zarr-python 2.18 + s3fs + dask (the reference notebooks' stack)
#   $ZK_CACHE/venv-zarr3  zarr-python 3.x + s3fs + dask
# A venv is rebuilt only when its requirements file changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${ZK_CACHE:-$HOME/.cache/zarr-kernel}
py=${PYTHON:-python3}
for v in zarr2 zarr3; do
  req=$here/requirements-$v.txt
  venv=$cache/venv-$v
  stamp=$(sha256sum "$req" | cut -c1-16)
  if [[ -f $venv/.stamp && $(cat "$venv/.stamp") == "$stamp" ]]; then continue; fi
  echo "venvs.sh: building $venv" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$stamp" >"$venv/.stamp"
done
