"""papermill parameters for Rust notebooks ("Rust (Zarr)" kernel, language `rust`).

papermill 2.6 has no entry point for translators, but it loads every `papermill.engine` entry
point when it is imported. This package's entry point (pyproject.toml) is `engine` below, which
is no engine (papermill says "No engine named 'rust-zarr'" if asked for it); loading this module
registers the Rust translator as a side effect, so `papermill nb.ipynb out.ipynb -k rust-zarr
-p url s3://…` works.

Each parameter becomes a typed `let` (Rust shadows the `parameters` cell's binding): a string
`String`, an int `i64`, a float `f64`, a bool `bool`, None `Option<String>`, a list of one of
those `Vec<…>`, anything else (dicts, mixed or nested lists) a `serde_json::Value`. A value YAML
gives that JSON has not (a date: `-y 'day: 2020-03-01'`) is its ISO text, a `String`.
"""

import json
import math

# What papermill registers under the entry point's name. Defined before papermill is imported:
# importing this module first imports papermill, which loads this entry point again.
engine = None

from papermill.exceptions import PapermillException  # noqa: E402
from papermill.translators import Translator, papermill_translators  # noqa: E402

I64 = (-(2**63), 2**63 - 1)
# Rust's strict and reserved keywords: not names for a `let`.
KEYWORDS = set("""as break const continue crate else enum extern false fn for if impl in let loop match mod move
mut pub ref return self Self static struct super trait true type unsafe use where while async await dyn abstract
become box do final macro override priv typeof unsized virtual yield try gen""".split())


def rust_str(text):
    """A Rust string literal: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def rust_float(val):
    if math.isnan(val):
        return "f64::NAN"
    if math.isinf(val):
        return "f64::INFINITY" if val > 0 else "f64::NEG_INFINITY"
    text = repr(float(val))
    return text if any(c in text for c in ".eE") else text + ".0"


def plain(val):
    """A value JSON has (YAML also gives dates and times): as is, or its ISO text."""
    if val is None or isinstance(val, (bool, int, float, str, list, dict)):
        return val
    return val.isoformat() if hasattr(val, "isoformat") else str(val)


def scalar_type(val):
    """The Rust type of a JSON scalar, or None for anything else."""
    if isinstance(val, bool):
        return "bool"
    if isinstance(val, int) and I64[0] <= val <= I64[1]:
        return "i64"
    if isinstance(val, float):
        return "f64"
    if isinstance(val, str):
        return "String"
    return None


def element_type(values):
    """The one scalar type of a list's items, or None (empty, mixed or nested)."""
    types = {scalar_type(v) for v in values}
    return types.pop() if len(types) == 1 and None not in types else None


class RustTranslator(Translator):
    """Typed `let` bindings; see the module's doc."""

    @classmethod
    def translate_str(cls, val):
        return f"String::from({rust_str(val)})"

    @classmethod
    def translate_none(cls, val):
        return "None"

    @classmethod
    def translate_int(cls, val):
        if not I64[0] <= val <= I64[1]:
            raise PapermillException(f"parameter value {val} does not fit a Rust i64; pass it as a string")
        return str(val)

    @classmethod
    def translate_float(cls, val):
        return rust_float(val)

    @classmethod
    def translate_bool(cls, val):
        return "true" if val else "false"

    @classmethod
    def translate_json(cls, val):
        text = json.dumps(val, ensure_ascii=False, allow_nan=False, default=plain)
        hashes = "#"
        while f'"{hashes}' in text:
            hashes += "#"
        return f'serde_json::from_str::<serde_json::Value>(r{hashes}"{text}"{hashes}).expect("papermill wrote JSON")'

    @classmethod
    def translate_dict(cls, val):
        return cls.translate_json(val)

    @classmethod
    def translate_list(cls, val):
        if element_type(val):
            return "vec![" + ", ".join(cls.translate(v) for v in val) + "]"
        return cls.translate_json(val)

    @classmethod
    def rust_type(cls, val):
        """The type written in the `let`."""
        if val is None:
            return "Option<String>"
        if isinstance(val, list):
            item = element_type(val)
            return f"Vec<{item}>" if item else "serde_json::Value"
        return scalar_type(val) or "serde_json::Value"

    @classmethod
    def comment(cls, cmt_str):
        return f"// {cmt_str}".strip()

    @classmethod
    def codify(cls, parameters, comment="Parameters"):
        lines = [cls.comment(comment)]
        for name, val in parameters.items():
            if not name.isidentifier() or name in KEYWORDS:
                raise PapermillException(f"parameter name {name!r} is not a Rust variable name; rename it")
            val = plain(val)
            if isinstance(val, list):
                val = [plain(v) for v in val]
            lines.append(f"let {name}: {cls.rust_type(val)} = {cls.translate(val)};")
        return "\n".join(lines) + "\n"


papermill_translators.register("rust", RustTranslator)
