"""Print prelude/Cargo.toml as a standalone manifest for the kernel's copy of the prelude (with
`--api-only CRATE...` after the two manifests: only those dependencies; or, with
--evcxr-deps MANIFEST CRATE..., evcxr `:dep` lines with the prelude's pins for those crates):
workspace-inherited keys resolved, path dependencies beside it (`../protocol`), no
dev-dependencies, and built as both rlib and dylib (the kernel links the dylib, so the prelude's
statics, runtime and clients exist once per kernel)."""

import re
import sys
import tomllib

if sys.argv[1] == "--evcxr-deps":
    # `:dep` lines for evcxr, with the prelude's exact requirements for the named crates:
    #   standalone_manifest.py --evcxr-deps prelude/Cargo.toml ndarray serde_json
    deps = tomllib.load(open(sys.argv[2], "rb"))["dependencies"]

    def inline(v):
        """A TOML value on one line (strings, booleans, lists and tables, as manifests use)."""
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, str):
            return f'"{v}"'
        if isinstance(v, list):
            return "[" + ", ".join(inline(x) for x in v) + "]"
        return "{ " + ", ".join(f"{k} = {inline(x)}" for k, x in v.items()) + " }"

    print("\n".join(f":dep {name} = {inline(deps[name])}" for name in sys.argv[3:]))
    sys.exit(0)

# --api-only CRATE...: the same manifest with only those dependencies (and an rlib only), for
# rust-analyzer's view of the prelude's API (see ARCHITECTURE.md, "Completions").
api_only = sys.argv[4:] if sys.argv[3:4] == ["--api-only"] else None
workspace = tomllib.load(open(sys.argv[1], "rb"))["workspace"]["package"]
out, section = [], None
for line in open(sys.argv[2]).read().splitlines():
    m = re.match(r"^\[(.+)\]$", line)
    if m:
        section = m.group(1)
        if section == "lib" and api_only is None:
            out += [line, 'crate-type = ["rlib", "dylib"]']
            continue
    if section == "dev-dependencies":
        continue
    dep = re.match(r"^(\w[\w-]*)\s*=", line)
    if api_only is not None and section == "dependencies" and dep and dep.group(1) not in api_only:
        continue
    # Path dependencies (the protocol crate) are copied beside the prelude: kernel/X -> ../X.
    line = re.sub(r'path = "\.\./kernel/([\w-]+)"', r'path = "../\1"', line)
    m = re.match(r"^(\w[\w-]*)\.workspace = true$", line)
    if m and section == "package":
        out.append(f'{m.group(1)} = "{workspace[m.group(1)]}"')
        continue
    out.append(line)
print("\n".join(out))
