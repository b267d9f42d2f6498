#!/usr/bin/env bash
# Prepare kernel/server/patched/evcxr: crates.io's evcxr, at the version the server pins, with
# our patches (patches/evcxr-VERSION/*.patch, one concern each, applied in name order).
# Cargo.toml's [patch.crates-io] points there.
#
#   kernel/server/patch-evcxr.sh                # idempotent; seconds; run before any server build
#   kernel/server/patch-evcxr.sh --diff NAME    # after editing patched/evcxr: rewrite patch NAME
#                                               # (the difference from pristine + every other patch)
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
}

apply() {  # apply patch $2 to the tree $1
  patch -s -p1 -d "$1" <"$2" || { say "error: $(basename "$2") does not apply to evcxr $version (+ the patches before it)"; exit 1; }
}

if [[ ${1:-} == --diff ]]; then
  target=$here/patches/evcxr-$version/$(basename "${2:?--diff needs the name of the patch to rewrite}")
  tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
  pristine "$tmp/a"
  for p in "${patches[@]}"; do [[ $p == "$target" ]] || apply "$tmp/a" "$p"; done
  cp -a "$dest" "$tmp/b" && rm -f "$tmp/b/.zk-patch-stamp"
  (cd "$tmp" && git diff --no-index --no-prefix a b >"$target") || [[ $? == 1 ]]
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
