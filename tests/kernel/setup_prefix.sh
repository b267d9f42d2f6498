#!/usr/bin/env bash
# A system-wide (--prefix) install for the kernel tests, shared by root and a non-root user:
#   $PREFIX/toolchain  a copy of this Rust toolchain (root's rustup home is not readable by others)
#   $PREFIX/venv       tests/kernel/requirements.txt on Debian's python3 (readable by every user),
#                      the Jupyter install.sh registers with (and puts papermill's translator in)
#   $PREFIX/share/…    install.sh --prefix $PREFIX, as the Dockerfile runs it (template reused
#                      while its inputs are unchanged)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
PREFIX=${ZK_TEST_PREFIX:-/opt/rust-zarr-kernel-test}
mkdir -p "$PREFIX"
# rust-src first (install.sh adds it to a rustup toolchain), so that the copy has it too.
"$root/install.sh" --check
sysroot=$(rustc --print sysroot)
stamp="$(rustc --version) with rust-src"
if [[ ! -f $PREFIX/toolchain/.version || $(cat "$PREFIX/toolchain/.version") != "$stamp" ]]; then
  echo "setup_prefix.sh: copying the toolchain to $PREFIX/toolchain" >&2
  rm -rf "$PREFIX/toolchain" && mkdir -p "$PREFIX/toolchain"
  cp -a "$sysroot"/{bin,lib,libexec,etc} "$PREFIX/toolchain/"
  echo "$stamp" >"$PREFIX/toolchain/.version"
fi
if [[ ! -x $PREFIX/venv/bin/python ]] || ! "$PREFIX/venv/bin/python" -c 'import jupyter_client, pytest, jupyter_kernel_test, papermill' 2>/dev/null; then
  /usr/bin/python3 -m venv "$PREFIX/venv"
  "$PREFIX/venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/kernel/requirements.txt"
fi
chmod -R a+rX "$PREFIX/toolchain" "$PREFIX/venv"
# The same command the Dockerfile runs (deploy/Dockerfile), with this venv's Jupyter first on
# PATH as the image's is: install.sh puts papermill's Rust translator into its Python.
PATH=$PREFIX/venv/bin:$PREFIX/toolchain/bin:$PATH "$root/install.sh" --prefix "$PREFIX" --no-notebooks
