#!/usr/bin/env bash
# Make (or reuse) Python venvs under $ZK_CACHE from requirements files:
#   venvs.sh                       # the test venvs:
#                                  #   venv-zarr2  zarr-python 2.18 + s3fs + dask (the reference stack)
#                                  #   venv-zarr3  zarr-python 3.x + s3fs + dask
#   venvs.sh NAME=REQUIREMENTS ... # others (the benchmarks use this)
# A venv is rebuilt only when its requirements file changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${ZK_CACHE:-$HOME/.cache/zarr-kernel}
py=${PYTHON:-python3}
(($#)) || set -- "zarr2=$here/requirements-zarr2.txt" "zarr3=$here/requirements-zarr3.txt"
for spec in "$@"; do
  name=${spec%%=*} req=${spec#*=}
  venv=$cache/venv-$name
  stamp=$(sha256sum "$req" | cut -c1-16)
  if [[ -f $venv/.stamp && $(cat "$venv/.stamp") == "$stamp" ]]; then continue; fi
  echo "venvs.sh: building $venv" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$stamp" >"$venv/.stamp"
done
