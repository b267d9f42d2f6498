"""Print prelude/Cargo.toml as a standalone manifest for the kernel's copy of the prelude:
workspace-inherited keys resolved, no dev-dependencies, and built as both rlib and dylib (the
kernel links the dylib, so the prelude's statics, runtime and clients exist once per kernel)."""

import re
import sys
import tomllib

workspace = tomllib.load(open(sys.argv[1], "rb"))["workspace"]["package"]
out, section = [], None
for line in open(sys.argv[2]).read().splitlines():
    m = re.match(r"^\[(.+)\]$", line)
    if m:
        section = m.group(1)
        if section == "lib":
            out += [line, 'crate-type = ["rlib", "dylib"]']
            continue
    if section == "dev-dependencies":
        continue
    m = re.match(r"^(\w[\w-]*)\.workspace = true$", line)
    if m and section == "package":
        out.append(f'{m.group(1)} = "{workspace[m.group(1)]}"')
        continue
    out.append(line)
print("\n".join(out))
