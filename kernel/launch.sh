#!/usr/bin/env bash
# Starts one "Rust (Zarr)" kernel (Jupyter runs: launch.sh CONNECTION_FILE).
#
# Each kernel gets a private work dir made from the prebuilt template: small files are copied,
# the dependency artifacts are symlinked to the (possibly read-only, shared) template, so setup
# takes milliseconds and nothing is recompiled. The dir is removed when the kernel exits; dirs
# left by killed kernels are swept at the next start. Work dirs live in a per-user root that no
# other user can write, below directories no other user can write (private-dirs.sh: cargo reads
# .cargo/config.toml from all of them): $ZK_RUN_DIR, else $XDG_RUNTIME_DIR/rust-zarr-kernel,
# else ${XDG_CACHE_HOME:-~/.cache}/rust-zarr-kernel.
set -u
DATA=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
conn=${1:-}

fail() {
  # One line that reaches the Jupyter server log (and the notebook's "kernel died" dialog).
  echo "Rust (Zarr) kernel cannot start: $*" >&2
  exit 1
}

[[ -n $conn ]] || fail "no connection file given (Jupyter starts this as: launch.sh {connection_file})"
[[ -f $DATA/env ]] && source "$DATA/env"
# The rustc cells run with: the toolchain install.sh pinned (EVCXR_TOOLCHAIN, in env), else PATH's.
rustc=${EVCXR_TOOLCHAIN:+$EVCXR_TOOLCHAIN/bin/}rustc
# rust-analyzer reads the prelude's API view (install.sh), not its whole dependency graph.
export EVCXR_ANALYSIS_PATHS="$DATA/prelude=$DATA/prelude-api"
if [[ ${ZK_PREBUILD:-} == 1 ]]; then  # install.sh builds the template in place
  export EVCXR_TMPDIR=$DATA/template EVCXR_CONFIG_DIR=$DATA/config CARGO_HOME=$DATA/cargo-home
  export LD_LIBRARY_PATH=$("$rustc" --print target-libdir)
  exec "$DATA/bin/zarr-kernel" --control_file "$conn"
fi
command -v "$rustc" >/dev/null || fail "$rustc is not there (PATH: $PATH); install Rust >= 1.95 or re-run install.sh"
[[ -x $DATA/bin/zarr-kernel ]] || fail "$DATA/bin/zarr-kernel is missing; re-run install.sh"
[[ -f $DATA/template/zk-stamp ]] || fail "the prebuilt template in $DATA/template is missing or incomplete; re-run install.sh"
want=$(sed -n 's/^rustc=//p' "$DATA/template/zk-stamp")
have=$("$rustc" --version)
export ZK_RUSTC_VERSION=$have  # the kernel's language_info.version
[[ $want == "$have" ]] || fail "the template was built by '$want' but rustc is now '$have'; re-run install.sh (about 5 minutes) so cells do not recompile everything"

source "$DATA/private-dirs.sh" || fail "$DATA/private-dirs.sh is missing; re-run install.sh"
if [[ -n ${ZK_RUN_DIR:-} ]]; then
  run_root=$ZK_RUN_DIR
elif [[ -n ${XDG_RUNTIME_DIR:-} && -d $XDG_RUNTIME_DIR && ! -L $XDG_RUNTIME_DIR &&
        $(stat -c '%u %a' "$XDG_RUNTIME_DIR") == "$zk_me 700" ]]; then
  run_root=$XDG_RUNTIME_DIR/rust-zarr-kernel
else
  run_root=${XDG_CACHE_HOME:-${HOME:-}/.cache}/rust-zarr-kernel
fi
elsewhere="set ZK_RUN_DIR to a directory of yours whose parents only you and root can write"
why=$(zk_private_dir "$run_root") || fail "$why, or $elsewhere"
why=$(zk_check_tree "$run_root") || fail "$why; $elsewhere"
for d in "$run_root"/k.*; do  # sweep dirs of kernels that were killed
  [[ -d $d ]] || continue
  pid=$(cat "$d/pid" 2>/dev/null || echo 0)
  kill -0 "$pid" 2>/dev/null || rm -rf "$d"
done
work=$(mktemp -d "$run_root/k.XXXXXX") || fail "cannot create a work dir in $run_root"
echo $$ >"$work/pid"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# The evcxr crate dir starts empty: cells compile against the template's prebuilt graph where
# it is (evcxr's patch reuses the rustc command recorded there), and only when a cell adds a
# `:dep`, so that cargo must run here, is the template's build state unpacked into it (copies
# of small files, symlinks to the built dependencies: see link-template.sh).
tpl=$DATA/template
mkdir -p "$work/tmp"
[[ -f $DATA/template.tar ]] || fail "$DATA/template.tar is missing; re-run install.sh"
export EVCXR_PREBUILT=$tpl EVCXR_PREBUILT_UNPACK=$DATA/template.tar
# The CARGO_HOME of the prebuild, at the same path: cargo's fingerprints record the path of
# every dependency's source, so any other path would rebuild the whole graph.
export EVCXR_TMPDIR=$work/tmp EVCXR_CONFIG_DIR=$DATA/config CARGO_HOME=$DATA/cargo-home
export LD_LIBRARY_PATH=$("$rustc" --print target-libdir)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# Jupyter starts a kernel in its notebook's directory: cells run there (relative paths in a
# notebook mean the notebook's directory; the prelude enters it, see live::enter_notebook_dir),
# while evcxr builds in the work dir.
export ZK_NOTEBOOK_DIR=$PWD
# Cluster runs hand workers this runner (DaskCluster, SlurmCluster), unless the user chose one.
export ZARR_TASK_BIN=${ZARR_TASK_BIN:-$DATA/bin/zarr-task}
cd "$work" || fail "cannot enter $work"
# ZK_SERVER_BIN: another server on the same template (benches/kernel_bench.py times evcxr_jupyter).
"${ZK_SERVER_BIN:-$DATA/bin/zarr-kernel}" --control_file "$conn" &
child=$!
trap 'kill -TERM $child 2>/dev/null' TERM INT HUP
while true; do
  wait $child
  rc=$?
  kill -0 $child 2>/dev/null || break  # a trapped signal interrupted wait: wait again
done
exit $rc
