#!/usr/bin/env bash
# link-template.sh TEMPLATE DEST: make an evcxr work dir from the prebuilt template.
# Large build artifacts (rlibs, shared objects, build-script binaries) become symlinks into the
# template, which may be shared and read-only; every small file (fingerprints, dep-info, build
# script outputs, manifests, sources) is copied with its mtime, since cargo rewrites those in
# place. Compilers replace artifacts by rename, which replaces the symlink, never the template.
# The template's own cell artifacts (crate `ctx`) are left out: a fresh kernel rebuilds its cells.
set -euo pipefail
tpl=$1 dst=$2
cd "$tpl"
# Left out everywhere: the cells' build dirs; then, for files, the cells' own artifacts.
skip=(\( -name 'ctx-*' -o -name 'incremental' \) -prune -o)
cells=(-type f \( -name 'libctx*' -o -name 'code_*' -o -name 'libcode_*' -o -name '.cargo-lock' -o -name 'zk-stamp' \) -prune -o)
find . "${skip[@]}" -type d -print | (cd "$dst" && xargs mkdir -p)
find . "${skip[@]}" "${cells[@]}" -type f -size +64k -path './target/*' -print0 |
  xargs -0 -r -I{} ln -s "$tpl/{}" "$dst/{}"
find . "${skip[@]}" "${cells[@]}" -type f \( -size -65k -o -not -path './target/*' \) -print0 |
  xargs -0 -r cp -a --parents -t "$dst"
chmod -R u+w "$dst"
