#!/usr/bin/env python3
"""The prelude's layers, checked: every `crate::` path in prelude/src must point to a lower layer.

The layers are the table in prelude/src/lib.rs's doc (`//! | N | `a`, `b` | what |`); the same
rows must be in ARCHITECTURE.md. Also: every module is in exactly one layer, no file of the
prelude is over MAX_LINES lines, and the files of a directory module (zarr/) import each other
without a cycle; the kernel's crates (kernel/server/src, kernel/protocol/src) likewise have no
import cycle and no file over MAX_LINES; and the contract between kernel and cells
(`ZARR_KERNEL_...` names) is spelled only in kernel/protocol. Prints each offending line; exits 1
if there is any.

    tests/layers.py              # check the repository
    tests/layers.py --self-test  # show that an upward import, a cycle and a long file fail
"""
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 520
ROW = re.compile(r"^(?://! )?\| (\d+) \| ([^|]+) \|")
PATH = re.compile(r"\$?crate::(?:\{([^}]*)\}|(\w+))")
SUPER = re.compile(r"\bsuper::(?:\{([^}]*)\}|(\w+))")


def table(lines):
    """{module: layer} from the rows of a layers table."""
    out = {}
    for line in lines:
        m = ROW.match(line.strip())
        if m:
            for name in re.findall(r"`(\w+)`", m.group(2)):
                out[name] = int(m.group(1))
    return out


def code_lines(path):
    """(number, text) of the lines that are code, not comments."""
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.lstrip().startswith("//"):
            yield n, line


def names(m):
    """The first path segment(s) a `crate::` or `super::` match names."""
    if m.group(2):
        return [m.group(2)]
    return [p.strip().split("::")[0] for p in m.group(1).split(",") if p.strip()]


def check(root):
    src = root / "prelude/src"
    errors = []
    layers = table((src / "lib.rs").read_text().splitlines())
    arch = table((root / "ARCHITECTURE.md").read_text().splitlines())
    if arch != layers:
        errors.append(f"ARCHITECTURE.md: its layers table {arch} differs from prelude/src/lib.rs's {layers}")
    modules = {p.stem for p in src.glob("*.rs") if p.stem != "lib"} | {p.parent.name for p in src.glob("*/mod.rs")}
    for m in sorted(modules - layers.keys()):
        errors.append(f"prelude/src/{m}: module {m} is in no layer; add it to the table in lib.rs and ARCHITECTURE.md")
    for m in sorted(layers.keys() - modules):
        errors.append(f"prelude/src/lib.rs: the layers table names {m}, which is not a module")

    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(root)
        count = len(path.read_text().splitlines())
        if count > MAX_LINES:
            errors.append(f"{rel}: {count} lines (at most {MAX_LINES}); split it by concern")
        top = path.relative_to(src).parts[0].removesuffix(".rs")
        if top == "lib":
            continue
        for n, line in code_lines(path):
            for m in PATH.finditer(line):
                for target in names(m):
                    if target == top or target not in layers or top not in layers:
                        continue
                    if layers[target] >= layers[top]:
                        errors.append(
                            f"{rel}:{n}: {top} (layer {layers[top]}) uses {target} (layer {layers[target]}): "
                            f"{line.strip()}"
                        )

    # Inside a directory module: the files' own import graph has no cycle.
    for mod_rs in sorted(src.glob("*/mod.rs")):
        d = mod_rs.parent
        # A nested directory module (zarr/codecs/) counts as one file: its mod.rs.
        files = {p.stem: p for p in d.glob("*.rs")} | {p.parent.name: p for p in d.glob("*/mod.rs")}
        edges = {f: set() for f in files}
        where = {}
        for f, path in files.items():
            for n, line in code_lines(path):
                use = re.match(r"\s*(?:pub(?:\([\w:]+\))? )?use (\w+)::", line)
                if f == "mod" and use and use.group(1) in files:
                    edges[f].add(use.group(1))
                    where.setdefault((f, use.group(1)), (n, line.strip()))
                found = [*PATH.finditer(line)] + ([] if f == "mod" else [*SUPER.finditer(line)])
                for m in found:
                    segs = names(m)
                    if m.re is PATH:
                        # crate::zarr::x -> x; crate::zarr::Name -> mod.rs
                        rest = line[m.end():]
                        if segs != [d.name]:
                            continue
                        sub = re.match(r"::(\w+)", rest)
                        segs = [sub.group(1) if sub and sub.group(1) in files else "mod"]
                    for t in segs:
                        t = t if t in files else "mod"
                        if t != f and not (f == "mod" and t == "mod"):
                            edges[f].add(t)
                            where.setdefault((f, t), (n, line.strip()))
        errors.extend(cycle_errors(d.relative_to(root), edges, where))
    return errors + crate_errors(root, "kernel/server/src") + crate_errors(root, "kernel/protocol/src") + contract_errors(root)


def cycle_errors(rel, edges, where):
    """One line for an import cycle among the files of `rel`, naming the line of each hop."""
    cycle = find_cycle(edges)
    if not cycle:
        return []
    hops = [f"{a}.rs:{where[(a, b)][0]} ({where[(a, b)][1]})" for a, b in zip(cycle, cycle[1:])]
    return [f"{rel}: import cycle {' -> '.join(cycle)}: " + "; ".join(hops)]


def crate_errors(root, rel):
    """A kernel crate's modules (the server, the protocol): each `crate::x` path is an edge; no
    cycle, no long file."""
    src = root / rel
    files = {p.stem: p for p in src.glob("*.rs")}
    edges, where, errors = {f: set() for f in files}, {}, []
    for f, path in sorted(files.items()):
        count = len(path.read_text().splitlines())
        if count > MAX_LINES:
            errors.append(f"{path.relative_to(root)}: {count} lines (at most {MAX_LINES}); split it by concern")
        for n, line in code_lines(path):
            for m in PATH.finditer(line):
                for t in names(m):
                    if t in files and t != f:
                        edges[f].add(t)
                        where.setdefault((f, t), (n, line.strip()))
    return errors + cycle_errors(src.relative_to(root), edges, where)


def contract_errors(root):
    """The contract between kernel and cells has one home, kernel/protocol: its names
    (ZARR_KERNEL_...) appear in no code of the prelude or the server, only in their comments."""
    errors = []
    for rel in ["prelude/src", "kernel/server/src"]:
        for path in sorted((root / rel).rglob("*.rs")):
            for n, line in code_lines(path):
                if '"ZARR_KERNEL_' in line:
                    errors.append(f"{path.relative_to(root)}:{n}: the contract's name {line.strip()}: use the "
                                  "zarr-kernel-protocol crate's constant")
    return errors


def find_cycle(edges):
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for t in sorted(edges.get(node, ())):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                c = visit(t, stack)
                if c:
                    return c
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            c = visit(node, [])
            if c:
                return c
    return None


def self_test():
    """Each kind of violation, planted in a copy, must be reported."""
    plants = {
        "upward": ("prelude/src/fs.rs", lambda s: s + "\nfn planted() { let _ = crate::display::planted; }\n", "fs (layer"),
        "same layer": ("prelude/src/s3/mod.rs", lambda s: s + "\nuse crate::local::planted;\n", "s3 (layer"),
        "cycle": ("prelude/src/zarr/spec.rs", lambda s: s + "\nuse super::array::planted;\n", "import cycle"),
        "server cycle": ("kernel/server/src/wire.rs", lambda s: s + "\nuse crate::server::planted;\n",
                         "kernel/server/src: import cycle"),
        "contract": ("kernel/server/src/wire.rs", lambda s: s + '\nconst X: &str = "ZARR_KERNEL_COMM_FD";\n',
                     "the contract's name"),
        "long file": ("prelude/src/text.rs", lambda s: s + "\n" * MAX_LINES, "lines (at most"),
        "unlisted": ("prelude/src/planted.rs", lambda s: "", "in no layer"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "clean"
        for part in ["prelude/src", "kernel/server/src", "kernel/protocol/src", "ARCHITECTURE.md"]:
            (clean / part).parent.mkdir(parents=True, exist_ok=True)
            copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy
            copy(ROOT / part, clean / part)
        if check(clean):
            sys.exit("layers.py --self-test: the unmodified copy already fails; run tests/layers.py first")
        for what, (file, plant, expect) in plants.items():
            case = Path(tmp) / what.replace(" ", "-")
            shutil.copytree(clean, case)
            target = case / file
            target.write_text(plant(target.read_text() if target.exists() else ""))
            errors = check(case)
            if not any(expect in e for e in errors):
                sys.exit(f"layers.py --self-test: a planted {what} violation in {file} was not reported: {errors}")
    print("layers.py --self-test: upward, same-layer, cycle, server-cycle, contract, long-file and unlisted violations are all "
          "reported")


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        sys.exit(0)
    errs = check(ROOT)
    for e in errs:
        print(e)
    if errs:
        sys.exit(1)
    print("layers.py: every crate:: path in prelude/src points to a lower layer; no cycles there or in "
          f"kernel/server/src and kernel/protocol/src; the contract's names only in the protocol crate; no file over "
          f"{MAX_LINES} lines")
