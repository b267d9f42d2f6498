#!/usr/bin/env bash
# Install the "Rust (Zarr)" Jupyter kernel. Idempotent: re-run after `git pull`.
#
#   ./install.sh                 # for this user (~/.local/share/rust-zarr-kernel + user kernelspec)
#   ./install.sh --prefix DIR    # system-wide: DIR/share/rust-zarr-kernel + DIR/share/jupyter/kernels
#   ./install.sh --sys-prefix    # into the prefix of the Python environment that runs Jupyter
#   ./install.sh --uninstall     # (with the same location flag) remove what was installed
#
# Steps: check Rust; build the kernel server (kernel/server, on the pinned evcxr); make sure
# Jupyter is there (a project venv in .venv when no `jupyter` is on PATH); copy the prelude; fetch
# its exact dependency graph into a private CARGO_HOME; prebuild the kernel's template (so the
# first cell compiles nothing); register the kernelspec `rust-zarr`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")" && pwd)
# The engine version the template is built by: the server's pin, read from its manifest.
EVCXR_VERSION=$(sed -n 's/^evcxr = "=\(.*\)"$/\1/p' "$ROOT/kernel/server/Cargo.toml")
MIN_RUST=1.95.0
NAME=rust-zarr
ZK_CACHE=${ZK_CACHE:-$HOME/.cache/zarr-kernel}

mode=user prefix="" uninstall=0 notebooks=1
while (($#)); do
  case $1 in
    --user) mode=user ;;
    --prefix) mode=prefix; prefix=$(realpath -m "${2:?--prefix needs a directory}"); shift ;;
    --prefix=*) mode=prefix; prefix=$(realpath -m "${1#--prefix=}") ;;
    --sys-prefix) mode=sys-prefix ;;
    --uninstall) uninstall=1 ;;
    --no-notebooks) notebooks=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
say() { echo "install.sh: $*" >&2; }
die() { echo "install.sh: error: $*" >&2; exit 1; }

# --- Jupyter (and the Python that drives the prebuild and the notebooks)
VENV=$ROOT/.venv
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import nbclient, jupyter_client' 2>/dev/null; then
  say "creating $VENV with jupyter_client and nbclient"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/kernel/requirements.txt"
fi
PY=$VENV/bin/python
JUPYTER=$(command -v jupyter || echo "$VENV/bin/jupyter")
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
  rm -rf "$DATA"
  say "removed the kernelspec $NAME and $DATA"
  exit 0
fi

# --- Rust
command -v cargo >/dev/null && command -v rustc >/dev/null || die "cargo/rustc not found; install Rust >= $MIN_RUST (https://rustup.rs), then re-run"
rust_v=$(rustc --version | awk '{print $2}')
[[ $(printf '%s\n%s\n' "$rust_v" "$MIN_RUST" | sort -V | head -1) == "$MIN_RUST" ]] || die "rustc $rust_v is too old; need >= $MIN_RUST (rustup update)"

# --- the kernel server: evcxr's engine + the Jupyter protocol with live displays (kernel/server).
# Its build dir is cached: ~8 minutes on 2 cores the first time, seconds after.
server_target=$ZK_CACHE/server-target
[[ -x $server_target/release/zarr-kernel ]] || say "building the kernel server (several minutes, once)"
CARGO_TARGET_DIR=$server_target cargo build --quiet --release --locked --manifest-path "$ROOT/kernel/server/Cargo.toml" ||
  die "the kernel server did not build (see above)"

# --- the data dir: launcher, config, prelude source, private CARGO_HOME, template
say "installing into $DATA"
mkdir -p "$DATA"/{bin,config,cargo-home}
rm -f "$DATA/bin/evcxr_jupyter"  # the server before live displays
install -m 755 "$server_target/release/zarr-kernel" "$DATA/bin/zarr-kernel"
install -m 755 "$ROOT/kernel/launch.sh" "$ROOT/kernel/link-template.sh" "$DATA/"
install -m 644 "$ROOT/kernel/jupyter_driver.py" "$ROOT/kernel/prebuild.py" "$DATA/"
rm -rf "$DATA/prelude" && mkdir -p "$DATA/prelude"
cp -r "$ROOT/prelude/src" "$DATA/prelude/"
cp "$ROOT/Cargo.lock" "$DATA/prelude/Cargo.lock"
"$PY" "$ROOT/kernel/standalone_manifest.py" "$ROOT/Cargo.toml" "$ROOT/prelude/Cargo.toml" >"$DATA/prelude/Cargo.toml"
# One fixed mtime for the copy: cargo rebuilds a path dependency whose sources look newer than
# its build, so a re-install with unchanged sources would otherwise recompile the prelude at every
# kernel start. Changed sources change the stamp below, which rebuilds the template.
find "$DATA/prelude" -exec touch -h -d '2000-01-01 00:00:00 UTC' {} +
sed "s|@PRELUDE@|$DATA/prelude|" "$ROOT/kernel/init.evcxr" >"$DATA/config/init.evcxr"
cp "$ROOT/kernel/prelude.rs" "$DATA/config/prelude.rs"
cat >"$DATA/env" <<ENV
# Written by install.sh: the toolchain the template was built with.
export PATH="$(dirname "$(command -v rustc)"):$(dirname "$(command -v cargo)"):\$PATH"
${RUSTUP_HOME:+export RUSTUP_HOME="$RUSTUP_HOME"}
${RUSTUP_TOOLCHAIN:+export RUSTUP_TOOLCHAIN="$RUSTUP_TOOLCHAIN"}
ENV
# Exactly the locked crates, in a CARGO_HOME no other cargo run can change.
rm -f "$DATA/cargo-home/config.toml"
CARGO_HOME=$DATA/cargo-home cargo fetch --quiet --manifest-path "$DATA/prelude/Cargo.toml"
# evcxr's rust-analyzer (it infers the types of `let`s) loads std's own workspace through cargo:
# its crates must be there too, or offline type inference fails.
CARGO_HOME=$DATA/cargo-home RUSTC_BOOTSTRAP=1 cargo fetch --quiet \
  --manifest-path "$(rustc --print sysroot)/lib/rustlib/src/rust/library/Cargo.toml" ||
  die "cannot fetch std's sources for rust-analyzer; install the rust-src component (rustup component add rust-src)"
cp "$ROOT/kernel/cargo-config.toml" "$DATA/cargo-home/config.toml"

stamp="rustc=$(rustc --version)
evcxr=$EVCXR_VERSION
inputs=$(cat "$DATA/prelude/Cargo.toml" "$DATA/prelude/Cargo.lock" "$DATA/config/init.evcxr" "$DATA/config/prelude.rs" "$ROOT/kernel/cargo-config.toml" <(find "$DATA/prelude/src" -type f -print0 | sort -z | xargs -0 cat) | sha256sum | cut -c1-16)"
if [[ -f $DATA/template/zk-stamp && $(cat "$DATA/template/zk-stamp") == "$stamp" ]]; then
  say "template is up to date"
else
  say "prebuilding the template (the whole dependency graph compiles once: several minutes)"
  rm -rf "$DATA/template" && mkdir -p "$DATA/template"
  (cd "$DATA" && "$PY" "$DATA/prebuild.py" "$DATA")
  echo "$stamp" >"$DATA/template/zk-stamp"
  rm -f "$DATA/template.tar"
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
chmod -R a+rX "$DATA"

# --- kernelspec
spec=$(mktemp -d)
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
say "kernelspec '$NAME' (Rust (Zarr)) installed:"
[[ $mode == prefix ]] && export JUPYTER_PATH=$prefix/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}
"$JUPYTER" kernelspec list | grep -E "^\s*$NAME\s" >&2 || true

if ((notebooks)) && [[ -x $ROOT/notebooks/run.sh ]]; then
  "$ROOT/notebooks/run.sh"
fi
