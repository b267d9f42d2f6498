#!/usr/bin/env bash
# Print a Python >= 3.12 (icechunk-python 2.x needs it): on PATH, else one of pyenv's versions
# (whose shims fail for a version that is not selected). Exit 1, printing nothing, if none.
for py in python3.12 python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[23]*/bin/python; do
  if "$py" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
    command -v "$py"
    exit 0
  fi
done
exit 1
