#!/usr/bin/env bash
# System-wide install for a JupyterHub singleuser image or a shared machine: the kernel, its
# prelude and the prebuilt template under PREFIX/share/rust-zarr-kernel (read-only for users),
# and the kernelspec under PREFIX/share/jupyter/kernels/rust-zarr.
#
#   deploy/install-system.sh /usr/local
#
# The Dockerfile runs exactly this; so does the test setup (tests/kernel/setup_prefix.sh), whose
# non-root user then starts the kernel from it. Run as root, with a Rust toolchain that every
# user can execute (e.g. rustup under /opt/rust, as in the Dockerfile).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:?usage: deploy/install-system.sh PREFIX}
say() { echo "install-system.sh: $*" >&2; }

command -v rustc >/dev/null || { say "error: rustc not found; install Rust >= 1.95 where all users can run it (see deploy/Dockerfile)"; exit 1; }
sysroot=$(rustc --print sysroot)
# Users run this very toolchain at each cell: it must be theirs to read and execute.
d=$sysroot
while [[ $d != / ]]; do
  perm=$(stat -c %A "$d")
  if [[ $perm != *x || ($d == "$sysroot" && $perm != *r?x) ]]; then
    say "error: the toolchain at $sysroot is not usable by other users ($d is $perm); install Rust under /opt (RUSTUP_HOME=/opt/rust/rustup CARGO_HOME=/opt/rust/cargo) or copy it there"
    exit 1
  fi
  d=$(dirname "$d")
done
[[ -d $sysroot/lib/rustlib/src/rust/library ]] || {
  say "error: rust-src is missing from $sysroot (evcxr's type inference needs it); run: rustup component add rust-src"
  exit 1
}
"$root/install.sh" --prefix "$prefix" --no-notebooks
chmod -R a+rX "$prefix/share/rust-zarr-kernel" "$prefix/share/jupyter/kernels/rust-zarr"
say "installed: kernel 'Rust (Zarr)' for every user, from $prefix/share/rust-zarr-kernel"
