#!/usr/bin/env bash
# Known advisories (RustSec) in both lock files: the prelude's workspace (Cargo.lock, also the
# cells' template) and the kernel server's (kernel/server/Cargo.lock, what an image builds).
#
#   tools/audit.sh [--db DIR]      # DIR: a clone of github.com/rustsec/advisory-db
#
# Offline: cargo-audit reads the database copy given (or $RUSTSEC_DB) and fetches nothing. With
# no copy (CI has no network) it says so in one line and exits 0; given one, it exits non-zero
# when either lock file has a vulnerability (or cargo-audit is missing). Warnings (unmaintained, unsound)
# are printed; ARCHITECTURE.md ("Advisories") says why each one that stays is not reachable.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
db=${RUSTSEC_DB:-}
while (($#)); do
  case $1 in
    --db) db=${2:?--db needs a directory}; shift 2 ;;
    *) echo "usage: tools/audit.sh [--db DIR]" >&2; exit 2 ;;
  esac
done
if [[ -z $db ]]; then
  echo "audit.sh: skipped: no advisory database (give --db DIR or RUSTSEC_DB: a clone of github.com/rustsec/advisory-db)"
  exit 0
fi
if [[ ! -d $db/crates ]]; then
  echo "audit.sh: $db is not a RustSec advisory database (no crates/ in it); clone github.com/rustsec/advisory-db there" >&2
  exit 1
fi
if ! cargo audit --version >/dev/null 2>&1; then
  echo "audit.sh: cargo-audit is not installed; cargo install cargo-audit --locked" >&2
  exit 1
fi
status=0
for lock in Cargo.lock kernel/server/Cargo.lock; do
  echo "== cargo audit $lock (database $(git -C "$db" log -1 --format=%cs 2>/dev/null || echo "of unknown date"))"
  cargo audit --db "$db" --no-fetch --stale --file "$root/$lock" || status=1
done
exit $status
