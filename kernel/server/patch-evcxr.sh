#!/usr/bin/env bash
# Prepare kernel/server/patched/evcxr: crates.io's evcxr, at the version the server pins, with
# our patches (patches/evcxr-VERSION/*.patch, one concern each, applied in name order).
# Cargo.toml's [patch.crates-io] points there.
#
#   kernel/server/patch-evcxr.sh                # idempotent; seconds; run before any server build
#   kernel/server/patch-evcxr.sh --diff NAME    # after editing patched/evcxr: rewrite patch NAME
#                                               # (the edit, at NAME's place in the series)
#
# The pristine source is the .crate that cargo already cached, else a download from crates.io;
# either way its sha256 must be the one crates.io published for that version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's/^evcxr = "=\(.*\)"$/\1/p' "$here/Cargo.toml")
sha=ee69caeeefc311959b85962458e370d8eccb165123edbc5270134aaee6d7ed80  # evcxr 0.22.0 on crates.io
patches=("$here/patches/evcxr-$version"/*.patch)
dest=$here/patched/evcxr
say() { echo "patch-evcxr.sh: $*" >&2; }
[[ $version == 0.22.0 ]] || { say "error: the server pins evcxr $version but this script knows 0.22.0's checksum; update both"; exit 1; }
[[ -f ${patches[0]} ]] || { say "error: no patches in $here/patches/evcxr-$version"; exit 1; }
for p in "${patches[@]}"; do  # one concern each, said first: "zarr-kernel patch NN: what"
  n=$(basename "$p" | cut -d- -f1)
  head -1 "$p" | grep -q "^zarr-kernel patch $n: " ||
    { say "error: $(basename "$p") does not start with 'zarr-kernel patch $n: <what it changes>' (then why, and which test fails without it)"; exit 1; }
done

pristine() {  # unpack the verified crate into $1
  local crate cache=${CARGO_HOME:-$HOME/.cargo}/registry/cache
  crate=$(ls "$cache"/*/"evcxr-$version.crate" 2>/dev/null | head -1 || true)
  if [[ -z $crate ]]; then
    crate=$(mktemp /tmp/evcxr-XXXXXX.crate)
    say "downloading evcxr $version from crates.io"
    curl -fsSL --retry 3 -o "$crate" "https://static.crates.io/crates/evcxr/evcxr-$version.crate" ||
      { say "error: cannot download evcxr $version (offline?); run 'cargo fetch --manifest-path $here/Cargo.toml' once online, or put evcxr-$version.crate in $cache/"; exit 1; }
  fi
  [[ $(sha256sum "$crate" | cut -c1-64) == "$sha" ]] || { say "error: $crate is not crates.io's evcxr $version (sha256 differs)"; exit 1; }
  mkdir -p "$1" && tar -xzf "$crate" -C "$1" --strip-components=1
  [[ $crate != /tmp/evcxr-* ]] || rm -f "$crate"
}

apply() {  # apply patch $2 to the tree $1
  patch -s -p1 -d "$1" <"$2" || { say "error: $(basename "$2") does not apply to evcxr $version (+ the patches before it)"; exit 1; }
}

if [[ ${1:-} == --diff ]]; then
  # a: pristine + the patches before NAME; b: the edited tree with the patches after NAME taken
  # back out (last first), so that NAME's new diff applies at its place in the series.
  target=$here/patches/evcxr-$version/$(basename "${2:?--diff needs the name of the patch to rewrite}")
  tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
  pristine "$tmp/a"
  later=()
  for p in "${patches[@]}"; do
    if [[ $p < $target ]]; then apply "$tmp/a" "$p"; elif [[ $p > $target ]]; then later=("$p" "${later[@]}"); fi
  done
  cp -a "$dest" "$tmp/b" && rm -f "$tmp/b/.zk-patch-stamp"
  for p in "${later[@]}"; do
    patch -s -R -p1 -d "$tmp/b" --no-backup-if-mismatch <"$p" ||
      { say "error: the edit touches what $(basename "$p") changes too; edit that patch instead"; exit 1; }
  done
  # Keep the patch's header (what, why, which test): everything before its first diff.
  if [[ -f $target ]]; then sed '/^diff /,$d' "$target" >"$tmp/header"; else : >"$tmp/header"; fi
  (cd "$tmp" && git diff --no-index --no-prefix a b >"$tmp/diff") || [[ $? == 1 ]]
  cat "$tmp/header" "$tmp/diff" >"$target"
  say "wrote $target ($(grep -c '^@@' "$target") hunks); re-run without --diff to check they all apply"
  exit 0
fi

stamp="$sha $(cat "${patches[@]}" | sha256sum | cut -c1-64)"
[[ -f $dest/.zk-patch-stamp && $(cat "$dest/.zk-patch-stamp") == "$stamp" ]] && exit 0
rm -rf "$dest" && pristine "$dest"
for p in "${patches[@]}"; do apply "$dest" "$p"; done
# Every file newer than any earlier build: cargo rebuilds a path dependency only when its
# sources look newer than its last build (unchanged patches never get here).
find "$dest" -exec touch -h {} +
echo "$stamp" >"$dest/.zk-patch-stamp"
say "evcxr $version patched in $dest ($(basename -a "${patches[@]}" | paste -sd ' '))"
