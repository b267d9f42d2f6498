#!/usr/bin/env bash
# Prepare kernel/server/patched/evcxr: crates.io's evcxr, at the version the server pins, with
# our patch (patches/evcxr-VERSION.patch) applied. Cargo.toml's [patch.crates-io] points there.
#
#   kernel/server/patch-evcxr.sh          # idempotent; seconds; run before any server build
#   kernel/server/patch-evcxr.sh --diff   # after editing patched/evcxr: rewrite the patch file
#
# The pristine source is the .crate that cargo already cached, else a download from crates.io;
# either way its sha256 must be the one crates.io published for that version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's/^evcxr = "=\(.*\)"$/\1/p' "$here/Cargo.toml")
sha=ee69caeeefc311959b85962458e370d8eccb165123edbc5270134aaee6d7ed80  # evcxr 0.22.0 on crates.io
patch=$here/patches/evcxr-$version.patch
dest=$here/patched/evcxr
say() { echo "patch-evcxr.sh: $*" >&2; }
[[ $version == 0.22.0 ]] || { say "error: the server pins evcxr $version but this script knows 0.22.0's checksum; update both"; exit 1; }

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

if [[ ${1:-} == --diff ]]; then
  tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
  pristine "$tmp/a" && cp -a "$dest" "$tmp/b" && rm -f "$tmp/b/.zk-patch-stamp"
  (cd "$tmp" && git diff --no-index --no-prefix a b >"$patch") || [[ $? == 1 ]]
  say "wrote $patch ($(grep -c '^@@' "$patch") hunks); re-run without --diff to check it applies"
  exit 0
fi

stamp="$sha $(sha256sum <"$patch" | cut -c1-64)"
[[ -f $dest/.zk-patch-stamp && $(cat "$dest/.zk-patch-stamp") == "$stamp" ]] && exit 0
rm -rf "$dest" && pristine "$dest"
patch -s -p1 -d "$dest" <"$patch" || { say "error: $patch does not apply to evcxr $version"; exit 1; }
# Every file newer than any earlier build: cargo rebuilds a path dependency only when its
# sources look newer than its last build (an unchanged patch never gets here).
find "$dest" -exec touch -h {} +
echo "$stamp" >"$dest/.zk-patch-stamp"
say "evcxr $version patched in $dest"
