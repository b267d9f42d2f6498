#!/usr/bin/env bash
# A system-wide (--prefix) install for the kernel tests, shared by root and a non-root user:
#   $PREFIX/toolchain  a copy of this Rust toolchain (root's rustup home is not readable by others)
#   $PREFIX/venv       jupyter_client + pytest on Debian's python3 (readable by every user)
#   $PREFIX/share/…    deploy/install-system.sh $PREFIX, as the Dockerfile runs it (template reused
#                      while its inputs are unchanged)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
PREFIX=${ZK_TEST_PREFIX:-/opt/rust-zarr-kernel-test}
mkdir -p "$PREFIX"
sysroot=$(rustc --print sysroot)
if [[ ! -f $PREFIX/toolchain/.version || $(cat "$PREFIX/toolchain/.version") != "$(rustc --version)" ]]; then
  echo "setup_prefix.sh: copying the toolchain to $PREFIX/toolchain" >&2
  rm -rf "$PREFIX/toolchain" && mkdir -p "$PREFIX/toolchain"
  cp -a "$sysroot"/{bin,lib,libexec,etc} "$PREFIX/toolchain/"
  rustc --version >"$PREFIX/toolchain/.version"
fi
if [[ ! -x $PREFIX/venv/bin/python ]] || ! "$PREFIX/venv/bin/python" -c 'import jupyter_client, pytest' 2>/dev/null; then
  /usr/bin/python3 -m venv "$PREFIX/venv"
  "$PREFIX/venv/bin/pip" install -q --disable-pip-version-check -r "$root/kernel/requirements.txt"
fi
chmod -R a+rX "$PREFIX/toolchain" "$PREFIX/venv"
# The same command the Dockerfile runs (deploy/Dockerfile).
PATH=$PREFIX/toolchain/bin:$PATH "$root/deploy/install-system.sh" "$PREFIX"
