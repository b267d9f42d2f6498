#!/usr/bin/env bash
# Install the "Rust (Zarr)" Jupyter kernel. Idempotent: re-run after `git pull`.
#
#   ./install.sh                 # for this user (~/.local/share/rust-zarr-kernel + user kernelspec)
#   ./install.sh --prefix DIR    # system-wide: DIR/share/rust-zarr-kernel + DIR/share/jupyter/kernels
#   ./install.sh --sys-prefix    # into the prefix of the Python environment that runs Jupyter
#   ./install.sh --uninstall     # (with the same location flag) remove what was installed
#   ./install.sh --no-notebooks  # skip running the notebooks at the end
#   ./install.sh --check         # only check the prerequisites (adding rustup's rust-src if missing)
#
# Steps: check every prerequisite (seconds; rustup's rust-src is added when missing); build the
# kernel server (kernel/server, on the pinned and patched evcxr); make sure Jupyter is there (a
# project venv in .venv when no `jupyter` is on PATH); copy the prelude; fetch its exact
# dependency graph into a private CARGO_HOME; prebuild the kernel's template (so the first cell
# compiles nothing); build zarr-task (the runner of cluster tasks); register the kernelspec
# `rust-zarr`; install papermill's Rust translator (kernel/papermill); run the notebooks.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")" && pwd)
# The engine version the template is built by: the server's pin, read from its manifest.
EVCXR_VERSION=$(sed -n 's/^evcxr = "=\(.*\)"$/\1/p' "$ROOT/kernel/server/Cargo.toml")
MIN_RUST=1.95.0
MIN_PYTHON=3.9
NAME=rust-zarr
ZK_CACHE=$(realpath -m "${ZK_CACHE:-$HOME/.cache/zarr-kernel}")

mode=user prefix="" uninstall=0 notebooks=1 check_only=0
while (($#)); do
  case $1 in
    --user) mode=user ;;
    --prefix) mode=prefix; prefix=$(realpath -m "${2:?--prefix needs a directory}"); shift ;;
    --prefix=*) mode=prefix; prefix=$(realpath -m "${1#--prefix=}") ;;
    --sys-prefix) mode=sys-prefix ;;
    --uninstall) uninstall=1 ;;
    --no-notebooks) notebooks=0 ;;
    --check) check_only=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
say() { echo "install.sh: $*" >&2; }
die() { echo "install.sh: error: $*" >&2; exit 1; }
# Every tool runs from /: cargo reads .cargo/config.toml, and rustup rust-toolchain.toml, from
# the directory it runs in and every one above it, and the caller's directory may be one that
# other users can write (/tmp). Builds that must run elsewhere are checked (private-dirs.sh).
cd /
source "$ROOT/kernel/private-dirs.sh"

# --- prerequisites, all checked before anything is built
VENV=$ROOT/.venv
need_venv=0
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import nbclient, jupyter_client' 2>/dev/null; then
  need_venv=1
fi
check_python() {
  command -v python3 >/dev/null || die "python3 not found; install Python >= $MIN_PYTHON with its venv module (Debian/Ubuntu: apt install python3-venv)"
  python3 -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$MIN_PYTHON'.split('.'))))" ||
    die "python3 is $(python3 -c 'import platform; print(platform.python_version())'); need >= $MIN_PYTHON"
  if ((need_venv)); then
    python3 -c 'import venv, ensurepip' 2>/dev/null ||
      die "python3 has no venv/ensurepip module; install it (Debian/Ubuntu: apt install python3-venv), then re-run"
  fi
}
check_rust() {
  command -v cargo >/dev/null && command -v rustc >/dev/null || die "cargo/rustc not found; install Rust >= $MIN_RUST (https://rustup.rs), then re-run"
  local v; v=$(rustc --version | awk '{print $2}')
  [[ $(printf '%s\n%s\n' "$v" "$MIN_RUST" | sort -V | head -1) == "$MIN_RUST" ]] || die "rustc $v is too old; need >= $MIN_RUST (rustup update)"
  sysroot=$(rustc --print sysroot)
  # evcxr's rust-analyzer infers the types of `let`s from std's sources: the rust-src component.
  if [[ ! -f $sysroot/lib/rustlib/src/rust/library/Cargo.toml ]]; then
    local home; home=$(rustup show home 2>/dev/null || true)
    if [[ -n $home && $sysroot == "$home"/toolchains/* ]]; then
      say "adding the rust-src component to $(basename "$sysroot") (rustup component add rust-src): the kernel infers types from std's sources"
      rustup component add rust-src --toolchain "$(basename "$sysroot")" >&2 || die "rustup component add rust-src failed (see above); run it yourself, then re-run"
    else
      die "rust-src is missing from $sysroot (the kernel infers types from std's sources); install your toolchain's rust-src component (rustup component add rust-src), then re-run"
    fi
  fi
  command -v "${CC:-cc}" >/dev/null || command -v gcc >/dev/null || command -v clang >/dev/null ||
    die "no C compiler (cc, gcc or clang) on PATH: the kernel's -sys crates and every cell's link need one (Debian/Ubuntu: apt install build-essential)"
  command -v patch >/dev/null || die "no 'patch' on PATH: the kernel server applies a patch to evcxr (Debian/Ubuntu: apt install patch)"
  if [[ $mode != user ]]; then
    # Every user runs this very toolchain at each cell: it must be theirs to read and execute.
    local d=$sysroot perm
    while [[ $d != / ]]; do
      perm=$(stat -c %A "$d")
      if [[ $perm != *x || ($d == "$sysroot" && $perm != *r?x) ]]; then
        die "the toolchain at $sysroot is not usable by other users ($d is $perm); install Rust under /opt (RUSTUP_HOME=/opt/rust/rustup CARGO_HOME=/opt/rust/cargo, as deploy/Dockerfile does) or chmod -R a+rX it"
      fi
      d=$(dirname "$d")
    done
  fi
}
check_python
((uninstall)) || check_rust
if ((check_only)); then
  say "prerequisites ok: $(rustc --version), rust-src, $(python3 --version), a C compiler"
  exit 0
fi

# --- Jupyter (and the Python that drives the prebuild and the notebooks)
if ((need_venv)); then
  say "creating $VENV with jupyter_client and nbclient"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/kernel/requirements.txt"
fi
PY=$VENV/bin/python
JUPYTER=$(command -v jupyter || echo "$VENV/bin/jupyter")
# The Python that runs Jupyter (and papermill), for papermill's translator.
jpy=$(dirname "$(readlink -f "$JUPYTER")")/python
[[ -x $jpy ]] || jpy=$PY
case $mode in
  user) DATA=${XDG_DATA_HOME:-$HOME/.local/share}/rust-zarr-kernel; spec_flag=(--user) ;;
  prefix) DATA=$prefix/share/rust-zarr-kernel; spec_flag=(--prefix "$prefix") ;;
  sys-prefix)
    sp=$("$(dirname "$(readlink -f "$JUPYTER")")/python" -c 'import sys; print(sys.prefix)' 2>/dev/null || "$PY" -c 'import sys; print(sys.prefix)')
    DATA=$sp/share/rust-zarr-kernel; spec_flag=(--sys-prefix) ;;
esac

if ((uninstall)); then
  [[ $mode == prefix ]] && export JUPYTER_PATH=$prefix/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}
  "$JUPYTER" kernelspec remove -f "$NAME" >/dev/null 2>&1 || true
  "$jpy" -m pip uninstall -q -y papermill-rust-zarr >/dev/null 2>&1 || true
  rm -rf "$DATA"
  say "removed the kernelspec $NAME and $DATA"
  exit 0
fi

# The template is built in the data dir (cargo runs there): no other user may write it or any
# directory above it. Checked before anything is built.
mkdir -p "$DATA"
why=$(zk_check_tree "$DATA") || die "$why; install somewhere else (--prefix DIR, or XDG_DATA_HOME)"

# --- the kernel server: evcxr's engine + the Jupyter protocol with live displays (kernel/server).
# Its build dir is cached: ~8 minutes on 2 cores the first time, seconds after.
server_target=$ZK_CACHE/server-target
"$ROOT/kernel/server/patch-evcxr.sh"
[[ -x $server_target/release/zarr-kernel ]] || say "building the kernel server (about 8 minutes on 2 cores, once)"
CARGO_TARGET_DIR=$server_target cargo build --quiet --release --locked --manifest-path "$ROOT/kernel/server/Cargo.toml" ||
  die "the kernel server did not build (see above)"

# --- the data dir: launcher, config, prelude source, private CARGO_HOME, template
say "installing into $DATA"
mkdir -p "$DATA"/{bin,config,cargo-home}
rm -f "$DATA/bin/evcxr_jupyter"  # the server before live displays
install -m 755 "$server_target/release/zarr-kernel" "$DATA/bin/zarr-kernel"
install -m 755 "$ROOT/kernel/launch.sh" "$ROOT/kernel/link-template.sh" "$DATA/"
install -m 644 "$ROOT/kernel/private-dirs.sh" "$DATA/"
install -m 644 "$ROOT/kernel/jupyter_driver.py" "$ROOT/kernel/prebuild.py" "$DATA/"
rm -rf "$DATA/prelude" "$DATA/protocol" && mkdir -p "$DATA/prelude" "$DATA/protocol"
cp -r "$ROOT/prelude/src" "$DATA/prelude/"
# The contract with the kernel, a path dependency of the prelude (../protocol beside it here).
cp -r "$ROOT/kernel/protocol/src" "$ROOT/kernel/protocol/Cargo.toml" "$DATA/protocol/"
cp "$ROOT/Cargo.lock" "$DATA/prelude/Cargo.lock"
"$PY" "$ROOT/kernel/standalone_manifest.py" "$ROOT/Cargo.toml" "$ROOT/prelude/Cargo.toml" >"$DATA/prelude/Cargo.toml"
# What rust-analyzer (completions, Shift+Tab) sees of the prelude: its sources with only the
# crates its API shows, so that it holds std and those in memory, not the whole graph.
rm -rf "$DATA/prelude-api" && mkdir -p "$DATA/prelude-api" && ln -s ../prelude/src "$DATA/prelude-api/src"
"$PY" "$ROOT/kernel/standalone_manifest.py" "$ROOT/Cargo.toml" "$ROOT/prelude/Cargo.toml" --api-only ndarray serde_json \
  zarr-kernel-protocol >"$DATA/prelude-api/Cargo.toml"
# The crates whose types the prelude's API shows (ndarray, serde_json) become the cells' own
# dependencies too, at the prelude's pins: a cell can then name their types, which is how the
# types of new variables are written down (see ARCHITECTURE.md). They are in the graph already.
api_deps=$("$PY" "$ROOT/kernel/standalone_manifest.py" --evcxr-deps "$ROOT/prelude/Cargo.toml" ndarray serde_json)
"$PY" - "$ROOT/kernel/init.evcxr" "$DATA/prelude" "$api_deps" >"$DATA/config/init.evcxr" <<'PY'
import sys
text, prelude, deps = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
print(text.replace("@PRELUDE@", prelude).replace("@API_DEPS@", deps), end="")
PY
cp "$ROOT/kernel/prelude.rs" "$DATA/config/prelude.rs"
cat >"$DATA/env" <<ENV
# Written by install.sh: the toolchain the template was built with.
export PATH="$(dirname "$(command -v rustc)"):$(dirname "$(command -v cargo)"):\$PATH"
# evcxr runs this toolchain's cargo and rustc, not whichever rustup would pick for a user.
export EVCXR_TOOLCHAIN="$sysroot"
${RUSTUP_HOME:+export RUSTUP_HOME="$RUSTUP_HOME"}
${RUSTUP_TOOLCHAIN:+export RUSTUP_TOOLCHAIN="$RUSTUP_TOOLCHAIN"}
ENV
# Exactly the locked crates, in a CARGO_HOME no other cargo run can change.
rm -f "$DATA/cargo-home/config.toml"
CARGO_HOME=$DATA/cargo-home cargo fetch --quiet --manifest-path "$DATA/prelude/Cargo.toml"
# evcxr's rust-analyzer (it infers the types of `let`s) loads std's own workspace through cargo:
# its crates must be there too, or offline type inference fails.
CARGO_HOME=$DATA/cargo-home RUSTC_BOOTSTRAP=1 cargo fetch --quiet \
  --manifest-path "$sysroot/lib/rustlib/src/rust/library/Cargo.toml" ||
  die "cannot fetch the crates std's workspace needs for rust-analyzer (offline?); re-run once online"
cp "$ROOT/kernel/cargo-config.toml" "$DATA/cargo-home/config.toml"

# The template's stamp, in two parts. The graph (toolchain and its path, engine, manifest, lock,
# init, cargo config): when it changes, the template is rebuilt from scratch (about 10 minutes on
# 2 cores).
# The prelude's own sources: when only they change, the prebuild recompiles just the prelude, in
# place (a minute or two).
digest() { cat "$@" | sha256sum | cut -c1-16; }
graph="rustc=$(rustc --version)
toolchain=$sysroot
evcxr=$EVCXR_VERSION $(digest "$ROOT"/kernel/server/patches/evcxr-"$EVCXR_VERSION"/*.patch)
graph=$(digest "$DATA/prelude/Cargo.toml" "$DATA/prelude/Cargo.lock" "$DATA/config/init.evcxr" "$ROOT/kernel/cargo-config.toml")"
sources=$(digest "$DATA/config/prelude.rs" <(find "$DATA/prelude/src" "$DATA/protocol" -type f -print0 | sort -z | xargs -0 cat))
old=$DATA/template/zk-stamp
if [[ -f $old && $(head -4 "$old") == "$graph" ]]; then
  rebuild=$([[ $(sed -n 's/^sources=//p' "$old") == "$sources" ]] && echo none || echo prelude)
else
  rebuild=all
fi
# The copy's mtime: cargo rebuilds a path dependency whose sources look newer than its build. A
# re-install with unchanged sources keeps the mtime the template was built against (else every
# kernel would recompile the prelude at start); changed sources get a new one, so the prebuild
# sees them.
if [[ $rebuild == none ]]; then mtime=$(sed -n 's/^mtime=//p' "$old"); else mtime=$(date +%s); fi
find "$DATA/prelude" "$DATA/protocol" -exec touch -h -d "@$mtime" {} +
case $rebuild in
  none) say "template is up to date" ;;
  prelude) say "rebuilding the prelude in the template (its sources changed)" ;;
  all)
    say "prebuilding the template (the whole dependency graph compiles once: about 10 minutes on 2 cores)"
    rm -rf "$DATA/template" && mkdir -p "$DATA/template" ;;
esac
if [[ $rebuild != none ]]; then
  rm -f "$DATA/template.tar" "$old"
  (cd "$DATA" && "$PY" "$DATA/prebuild.py" "$DATA")
  printf '%s\nsources=%s\nmtime=%s\n' "$graph" "$sources" "$mtime" >"$old"
fi
if [[ ! -f $DATA/template.tar ]]; then
  # What each kernel unpacks into its private dir: small files as copies, build artifacts as
  # symlinks into the template. One `tar -x` at kernel start instead of walking the template.
  stage=$(mktemp -d "$DATA/.stage.XXXXXX")
  "$DATA/link-template.sh" "$DATA/template" "$stage"
  # posix (pax) keeps nanosecond mtimes: cargo compares them, and whole seconds look stale.
  tar --format=posix -cf "$DATA/template.tar" -C "$stage" .
  rm -rf "$stage"
fi
# The task runner of cluster runs (Dask workers and Slurm nodes run it, see ARCHITECTURE.md): a
# release build of the prelude's locked graph, its build dir cached (~7 minutes on 2 cores once).
# One build dir per data dir: cargo's fingerprints record the sources' paths (the private CARGO_HOME).
task_target=$ZK_CACHE/task-target-$(printf '%s' "$DATA" | sha256sum | cut -c1-12)
[[ -x $task_target/release/zarr-task ]] || say "building zarr-task, the cluster task runner (about 7 minutes on 2 cores, once)"
CARGO_HOME=$DATA/cargo-home CARGO_TARGET_DIR=$task_target cargo build --quiet --release --locked --offline \
  --manifest-path "$DATA/prelude/Cargo.toml" --bin zarr-task || die "zarr-task did not build (see above)"
install -m 755 "$task_target/release/zarr-task" "$DATA/bin/zarr-task"
chmod -R a+rX "$DATA"

# --- kernelspec (mktemp makes 0700 dirs, and Jupyter copies modes: other users must see it)
spec=$(mktemp -d)
chmod 755 "$spec"
cp "$ROOT/kernel/logo-32x32.png" "$ROOT/kernel/logo-64x64.png" "$spec/"
cat >"$spec/kernel.json" <<JSON
{
  "argv": ["$DATA/launch.sh", "{connection_file}"],
  "display_name": "Rust (Zarr)",
  "language": "rust",
  "interrupt_mode": "message",
  "metadata": {"debugger": false}
}
JSON
"$JUPYTER" kernelspec install --replace --name "$NAME" "${spec_flag[@]}" "$spec" >/dev/null
rm -rf "$spec"
[[ $mode == prefix ]] && export JUPYTER_PATH=$prefix/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}
installed=$("$JUPYTER" kernelspec list --json | "$PY" -c "import json,sys; print(json.load(sys.stdin)['kernelspecs']['$NAME']['resource_dir'])") ||
  die "jupyter does not list the kernelspec $NAME after installing it"
[[ $mode == user ]] || chmod -R a+rX "$installed"
say "kernelspec '$NAME' (Rust (Zarr)) installed in $installed"

# --- papermill parameters (kernel/papermill): into the Python that runs Jupyter, where papermill
# looks for it. An environment pip may not change (PEP 668) gets one line saying how instead.
if "$jpy" -m pip install -q --disable-pip-version-check --no-deps "$ROOT/kernel/papermill" >/dev/null 2>&1; then
  say "papermill parameters for Rust notebooks installed for $("$jpy" -c 'import sys; print(sys.prefix)')"
else
  say "papermill parameters not installed ($jpy -m pip refused); for papermill -p, run: <papermill's python> -m pip install $ROOT/kernel/papermill"
fi

if ((notebooks)) && [[ -x $ROOT/notebooks/run.sh ]]; then
  "$ROOT/notebooks/run.sh"
fi
