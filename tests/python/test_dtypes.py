"""Every dtype, codec, filter, order and key separator zarr-python writes, read by the prelude
(`interop dump`, prelude/examples/interop.rs): each array's values in its own dtype must equal
what zarr-python reads back, bit for bit (NaNs at the same places), or the array is one of the
refusals listed below, refused in one line. Like the zarr_implementations matrix, for this
venv's zarr-python (2.18: v2; 3.x: v2 and v3)."""

import json
import uuid

import numcodecs
import numpy as np
import pytest
import s3fs
import zarr
from conftest import STORAGE, ZARR2, run_example

SHAPE, CHUNKS = (7, 9), (3, 4)  # edge chunks on both axes

# Written by zarr-python 2, refused by the prelude in one line: name suffix -> why. Each holds
# values with no one Rust element type; none is a numcodecs compressor or filter.
REFUSED = {
    "struct": "a structured (record) dtype: zarrs has no structured data type",
    "json": "an object array of JSON values (numcodecs' JSON object codec): any value, any type",
    "ragged": "an object array of ragged int arrays (numcodecs' VLenArray)",
}
# name suffix -> (numpy dtype, object codec, values)
OBJECTS = {
    "struct": ([("a", "<i4"), ("b", "<f8")], None, lambda: np.array([(i, i / 2) for i in range(63)],
                                                                     dtype=[("a", "<i4"), ("b", "<f8")]).reshape(SHAPE)),
    "json": (object, "JSON", lambda: np.array([[i, "a", None][i % 3] for i in range(63)], dtype=object).reshape(SHAPE)),
    "ragged": (object, "VLenArray", None),
}


def pattern(dtype):
    """Values that exercise a dtype: extremes, negatives, NaN/inf/-0.0 for floats; empty and
    non-ASCII strings; bytes that are not UTF-8; NaT and dates before 1970."""
    i, j = np.indices(SHAPE)
    k = i * SHAPE[1] + j
    if dtype == VBYTES:
        return np.array([bytes([n % 256, 0, 255])[: n % 4] for n in k.flat], dtype=object).reshape(SHAPE)
    dt = np.dtype(object if dtype is str else dtype)
    if dt.kind in "OUS":
        words = ["", "KDEN", "Zürich", "東京", "a b", "x" * 6]
        a = np.array([words[n % len(words)] + ("" if n % 4 else str(n)) for n in k.flat], dtype=object)
        if dt.kind == "S":
            a = np.array([w.encode("utf-8")[:5] for w in a], dtype=dt)
        elif dt.kind == "U":
            a = np.array([w[:dt.itemsize // 4] for w in a], dtype=dt)
        return a.reshape(SHAPE)
    if dt.kind == "c":
        a = ((k * 37 + 11) % 1000 / 8.0 - 40.0) + 1j * (k % 7 - 3.5)
        a = a.astype(dt)
        a.flat[1], a.flat[2] = complex(np.nan, 1.0), complex(-0.0, np.inf)
        return a
    if dt.kind == "M":
        base = np.datetime64("1969-07-20T20:17:40.123456789", "ns")
        a = (base + k * np.timedelta64(37, "h") + k * k * np.timedelta64(1234567, "ns")).astype(dt)
        a.flat[3] = np.datetime64("NaT")
        return a
    if dt.kind == "m":
        a = ((k - 20) * np.timedelta64(3_600_000_123, "ns")).astype(dt)
        a.flat[3] = np.timedelta64("NaT")
        return a
    if dt.kind == "b":
        return (k % 3) == 0
    if dt.kind in "iu":
        info = np.iinfo(dt)
        a = (k * 37 + 11).astype("i8") % min(int(info.max), 1000)
        if dt.kind == "i":
            a = np.where(k % 2 == 0, -a, a)
        a = a.astype(dt)
        a.flat[0], a.flat[-1] = info.max, info.min
        return a
    a = ((k * 37 + 11) % 1000 / 8.0 - 40.0).astype(dt)
    a.flat[1], a.flat[2], a.flat[3], a.flat[4] = np.nan, np.inf, -np.inf, -0.0
    return a


# Variable-length bytes: numcodecs' VLenBytes object codec (v2), zarr-python 3's
# variable_length_bytes (v3).
VBYTES = "vbytes"

# Strings (object with vlen-utf8, fixed-width unicode), complex numbers, datetimes and timedeltas.
OTHER_DTYPES = [str, "<U6", "<c8", "<c16", "<M8[ns]", "<M8[s]", "<M8[D]", "<m8[s]", "<m8[ms]"]

DTYPES = ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8", ">i4", ">u2", ">f8"]


def tag(dtype):
    """A dtype in a path: `<f4` -> f4, `>f8` -> be-f8 (`<`, `>` and `|` are not safe in keys)."""
    if dtype is str or dtype == VBYTES:
        return "str" if dtype is str else VBYTES
    return dtype.replace(">", "be-").lstrip("<|").replace("[", "").replace("]", "")


def v2_variants():
    """name -> (dtype, kwargs for zarr-python's v2 array)."""
    from numcodecs import BZ2, LZ4, LZMA, Blosc, BitRound, Delta, GZip, Quantize, Shuffle, Zlib, Zstd

    out = {f"v2-{tag(d)}-zlib": (d, {"compressor": Zlib(1)}) for d in DTYPES}
    out.update({f"v2-{tag(d)}-none": (d, {"compressor": None}) for d in ("|b1", "<u8", "<f2", ">f8")})
    for name, comp in {"blosc-lz4-byte": Blosc("lz4", 5, Blosc.SHUFFLE), "blosc-zstd-bit": Blosc("zstd", 3, Blosc.BITSHUFFLE),
                       "blosc-zlib-none": Blosc("zlib", 1, Blosc.NOSHUFFLE), "gzip": GZip(5), "zstd": Zstd(3),
                       "bz2": BZ2(5), "lzma": LZMA(), "lz4": LZ4()}.items():
        out[f"v2-f8-{name}"] = ("<f8", {"compressor": comp})
        out[f"v2-i2-{name}"] = ("<i2", {"compressor": comp})
    out["v2-f4-bitround"] = ("<f4", {"compressor": Zlib(1), "filters": [BitRound(keepbits=8)]})
    out["v2-f8-shuffle"] = ("<f8", {"compressor": Zlib(1), "filters": [Shuffle(elementsize=8)]})
    out["v2-i4-delta"] = ("<i4", {"compressor": Zlib(1), "filters": [Delta(dtype="<i4")]})
    out["v2-f8-quantize"] = ("<f8", {"compressor": Zlib(1), "filters": [Quantize(digits=2, dtype="<f8")]})
    out["v2-f4-quantize"] = ("<f4", {"compressor": None, "filters": [Quantize(digits=3, dtype="<f4")]})
    out["v2-f8-delta"] = ("<f8", {"compressor": LZ4(), "filters": [Delta(dtype="<f8")]})
    out["v2-u2-delta"] = ("<u2", {"compressor": LZMA(), "filters": [Delta(dtype="<u2")]})
    for d in ("<f4", "<i2", "|u1", ">f8"):
        out[f"v2-{tag(d)}-F"] = (d, {"compressor": Zlib(1), "order": "F"})
    out["v2-f4-slash"] = ("<f4", {"compressor": Zlib(1), "dimension_separator": "/"})
    out["v2-f4-nanfill-missing"] = ("<f4", {"compressor": Zlib(1), "fill_value": np.nan, "missing": True})
    out["v2-i2-fill-missing"] = ("<i2", {"compressor": Zlib(1), "fill_value": -9, "missing": True})
    out["v2-f8-nofill"] = ("<f8", {"compressor": None, "fill_value": None})
    for d in OTHER_DTYPES:
        out[f"v2-{tag(d)}-zstd"] = (d, {"compressor": Zstd(3)})
    out["v2-str-blosc-F"] = (str, {"compressor": Blosc("lz4", 5, Blosc.NOSHUFFLE), "order": "F"})
    out["v2-c16-F"] = ("<c16", {"compressor": Zlib(1), "order": "F"})
    out["v2-M8ns-nat-missing"] = ("<M8[ns]", {"compressor": Zlib(1), "fill_value": np.datetime64("NaT"), "missing": True})
    out["v2-bytes"] = ("|S5", {"compressor": Zlib(1)})
    out["v2-bytes-fill-missing"] = ("|S5", {"compressor": Zlib(1), "fill_value": b"ab", "missing": True})
    out["v2-vbytes-zstd"] = (VBYTES, {"compressor": Zstd(3)})
    if ZARR2:
        out.update({f"v2-{key}": (key, {"compressor": Zlib(1)}) for key in OBJECTS})
    return out


def refusal(name):
    return next((why for key, why in REFUSED.items() if name.endswith(f"-{key}")), None)


def write_v2(fs, path, dtype, kw):
    kw = dict(kw)
    missing = kw.pop("missing", False)
    if dtype in OBJECTS:
        return write_object(fs, path, dtype, kw)
    data = pattern(dtype)
    if dtype == VBYTES and ZARR2:
        dtype, kw["object_codec"] = object, numcodecs.VLenBytes()
    if ZARR2:
        z = zarr.open(s3fs.S3Map(root=path, s3=fs, check=False), mode="w", shape=SHAPE, chunks=CHUNKS, dtype=dtype, **kw)
    else:
        store = zarr.storage.FsspecStore.from_url(f"s3://{path}", storage_options=STORAGE)
        compressor = kw.pop("compressor", None)
        kw["compressors"] = compressor
        kw.setdefault("fill_value", fill(dtype))
        dtype = zarr3_dtype(dtype)
        if "dimension_separator" in kw:
            kw["chunk_key_encoding"] = {"name": "v2", "separator": kw.pop("dimension_separator")}
        z = zarr.create_array(store, shape=SHAPE, chunks=CHUNKS, dtype=dtype, zarr_format=2, overwrite=True, **kw)
    if missing:
        z[:3, :4] = data[:3, :4]  # one chunk written, the rest missing: fill values
    else:
        z[:] = data
    return z


def write_object(fs, path, key, kw):
    """zarr-python 2's structured and object arrays that the prelude refuses."""
    dtype, codec, values = OBJECTS[key]
    if codec == "VLenArray":
        kw["object_codec"] = numcodecs.VLenArray("<i4")
    elif codec:
        kw["object_codec"] = getattr(numcodecs, codec)()
    z = zarr.open(s3fs.S3Map(root=path, s3=fs, check=False), mode="w", shape=SHAPE, chunks=CHUNKS, dtype=dtype, **kw)
    if values:
        z[:] = values()
    else:
        for i in range(SHAPE[0]):
            for j in range(SHAPE[1]):
                z[i, j] = np.arange(i + j, dtype="<i4")
    return z


def v3_variants():
    """name -> (dtype, kwargs for zarr.create_array), zarr-python 3's own codecs and numcodecs'."""
    from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, TransposeCodec, ZstdCodec

    out = {f"v3-{np.dtype(d).name}-zstd": (np.dtype(d).newbyteorder("<").name, {"compressors": ZstdCodec(level=1)})
           for d in DTYPES if not d.startswith(">")}
    out["v3-float64-big-endian"] = ("float64", {"serializer": BytesCodec(endian="big"), "compressors": None})
    out["v3-int16-transpose"] = ("int16", {"filters": [TransposeCodec(order=(1, 0))], "compressors": GzipCodec(level=1)})
    out["v3-float32-blosc-crc32c"] = ("float32", {"compressors": [BloscCodec(cname="zstd", clevel=3), Crc32cCodec()]})
    out["v3-float32-shards"] = ("float32", {"shards": (6, 8), "compressors": ZstdCodec(level=1)})
    out["v3-float32-nanfill-missing"] = ("float32", {"fill_value": np.nan, "missing": True})
    for d in OTHER_DTYPES:
        out[f"v3-{tag(d)}-zstd"] = (d, {"compressors": ZstdCodec(level=1)})
    out["v3-str-shards"] = (str, {"shards": (6, 8), "compressors": ZstdCodec(level=1)})
    out["v3-M8s-nat-missing"] = ("<M8[s]", {"fill_value": np.datetime64("NaT"), "missing": True})
    out["v3-bytes"] = ("|S5", {})
    out["v3-bytes-fill-missing"] = ("|S5", {"fill_value": b"ab", "missing": True})
    out["v3-vbytes-zstd"] = (VBYTES, {"compressors": ZstdCodec(level=1)})
    try:
        import numcodecs.zarr3 as nz

        out["v3-float64-bz2"] = ("float64", {"compressors": nz.BZ2(level=5)})
        out["v3-float64-lzma"] = ("float64", {"compressors": nz.LZMA()})
        out["v3-float32-bitround"] = ("float32", {"filters": [nz.BitRound(keepbits=8)]})
        out["v3-int32-delta"] = ("int32", {"filters": [nz.Delta(dtype="<i4")]})
        out["v3-float64-quantize-lz4"] = ("float64", {"filters": [nz.Quantize(digits=2, dtype="<f8")],
                                                      "compressors": nz.LZ4()})
    except (ImportError, AttributeError):
        pass
    return out


def zarr3_dtype(dtype):
    if dtype == VBYTES:
        from zarr.core.dtype import VariableLengthBytes

        return VariableLengthBytes()
    return dtype


def fill(dtype):
    """zarr-python 3's fill value for a new array of `dtype`, as our tests set it."""
    if dtype == VBYTES:
        return b""
    kind = np.dtype(dtype).kind
    return "" if kind in "OUS" else None if kind in "Mm" else 0


def write_v3(fs, path, dtype, kw):
    kw = dict(kw)
    missing = kw.pop("missing", False)
    kw.setdefault("fill_value", fill(dtype))
    store = zarr.storage.FsspecStore.from_url(f"s3://{path}", storage_options=STORAGE)
    z = zarr.create_array(store, shape=SHAPE, chunks=CHUNKS, dtype=zarr3_dtype(dtype), zarr_format=3, overwrite=True,
                          **kw)
    data = pattern(dtype)
    if missing:
        z[:3, :4] = data[:3, :4]
    else:
        z[:] = data
    return z


@pytest.fixture(scope="module")
def matrix(fs):
    """Every variant written by zarr-python, then all dumped by the prelude in one process:
    name -> (what zarr-python reads back, the prelude's JSON line)."""
    import warnings

    bucket = f"dtypes-{'z2' if ZARR2 else 'z3'}-{uuid.uuid4().hex[:8]}"
    fs.mkdir(bucket)
    written = {}
    variants = {k: ("v2", *v) for k, v in v2_variants().items()}
    if not ZARR2:
        variants.update({k: ("v3", *v) for k, v in v3_variants().items()})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zarr 3 warns about v2 and numcodecs' v3 codecs
            for name, (fmt, dtype, kw) in variants.items():
                path = f"{bucket}/{name}.zarr"
                z = (write_v2 if fmt == "v2" else write_v3)(fs, path, dtype, kw)
                written[name] = (path, z[:])
        urls = [f"s3://{p}" for p, _ in written.values()]
        lines = run_example("interop", "dump", *urls).splitlines()
        got = {json.loads(line)["url"]: json.loads(line) for line in lines}
        # The prelude writes each array's values back, through every codec's encoder, and
        # zarr-python reads them (the lossy filters give the same values again).
        run_example("interop", "rewrite", *(u for u, line in zip(urls, lines) if "error" not in json.loads(line)))
        reread = {name: z_open(fs, path)[:] for name, (path, _) in written.items()}
        yield {name: (expected, got[f"s3://{path}"], reread[name]) for name, (path, expected) in written.items()}
    finally:
        fs.rm(bucket, recursive=True)


NAMES = list(v2_variants()) + ([] if ZARR2 else list(v3_variants()))


def zarr_dtype(dt):
    """The prelude's name for numpy's dtype `dt` (`<U6` and `string` for strings)."""
    if dt.kind == "U":
        return f"<U{dt.itemsize // 4}"
    if dt.kind == "S":
        return f"|S{dt.itemsize}"
    if dt.kind in "OT":
        return "string"
    return dt.newbyteorder("=").name


def is_vbytes(a):
    return a.dtype.kind == "O" and isinstance(a.flat[0], bytes)


def decoded(line, expected):
    """The prelude's values as a numpy array of zarr-python's dtype (native byte order)."""
    if "error" in line:
        return None
    if is_vbytes(expected):
        return np.array([bytes(b) for b in line["values"]], dtype=object).reshape(line["shape"])
    if expected.dtype.kind in "UOT":
        return np.array(line["values"], dtype=object).reshape(line["shape"])
    if expected.dtype.kind == "S":
        return np.array([bytes(b) for b in line["values"]], dtype=expected.dtype).reshape(line["shape"])
    dt = expected.dtype.newbyteorder("=")
    if dt.kind in "Mm":
        return np.array(line["values"], dtype="i8").view(dt).reshape(line["shape"])
    if dt.kind == "c":
        parts = np.array([[int(h, 16) for h in c] for c in line["values"]], dtype="u8").view("f8")
        c = np.empty(len(parts), dtype=dt)
        c.real, c.imag = parts[:, 0], parts[:, 1]
        return c.reshape(line["shape"])
    if dt.kind == "f":
        bits = np.array([int(h, 16) for h in line["values"]], dtype="u8")
        return bits.view("f8").astype(dt).reshape(line["shape"])
    return np.array(line["values"], dtype=dt).reshape(line["shape"])


@pytest.mark.parametrize("name", NAMES)
def test_the_prelude_reads_what_zarr_python_wrote(matrix, name):
    expected, line, _ = matrix[name]
    why = refusal(name)
    if why:
        assert "error" in line and "\n" not in line["error"], f"{name} ({why}) is read now: update REFUSED; {line}"
        return
    assert "error" not in line, f"{name}: {line.get('error')}"
    want = "variable_length_bytes" if is_vbytes(expected) else zarr_dtype(expected.dtype)
    assert line["zarr_dtype"] == want, line["zarr_dtype"]
    got = decoded(line, expected)
    assert got.shape == expected.shape
    if is_vbytes(expected):
        assert list(got.flat) == list(expected.flat)
        return
    if expected.dtype.kind in "UOT":
        assert list(got.flat) == [str(v) for v in expected.flat]
        return
    np.testing.assert_array_equal(got, expected)
    if expected.dtype.kind == "c":
        assert (np.signbit(got.real) == np.signbit(expected.real)).all(), "-0.0 kept"
    if expected.dtype.kind == "f":
        assert (np.signbit(got) == np.signbit(expected)).all(), "-0.0 kept"


@pytest.mark.parametrize("name", NAMES)
def test_what_the_prelude_writes_back_zarr_python_reads_the_same(matrix, name):
    expected, line, reread = matrix[name]
    if "error" in line:
        pytest.skip("refused")
    if expected.dtype.kind in "UOT":
        assert [str(v) for v in reread.flat] == [str(v) for v in expected.flat]
        return
    np.testing.assert_array_equal(reread, expected)
    if expected.dtype.kind == "f":
        assert (np.signbit(reread) == np.signbit(expected)).all(), "-0.0 kept"


def z_open(fs, path):
    if ZARR2:
        return zarr.open(s3fs.S3Map(root=path, s3=fs, check=False), mode="r")
    return zarr.open(zarr.storage.FsspecStore.from_url(f"s3://{path}", storage_options=STORAGE, read_only=True), mode="r")


# What `ArraySpec` creates, in any spelling; written from Rust values (`interop create`).
# spelling -> the numpy dtype zarr-python reads (None: a variable-length string dtype; VBYTES:
# variable-length bytes)
CREATED = {"str": None, "U6": "<U6", "c8": "complex64", "<c16": "complex128", "f2": "float16",
           "M8[ns]": "<M8[ns]", "datetime64[s]": "<M8[s]", "M8[D]": "<M8[D]", "m8[s]": "<m8[s]",
           "timedelta64[ms]": "<m8[ms]", "S5": "|S5", "bytes": VBYTES}


def created_pattern(dt):
    """What `interop create` writes at element k (prelude/examples/interop.rs)."""
    k = np.arange(63).reshape(7, 9)
    words = [["", "KDEN ", "Zürich", "東京"][n % 4] + str(n) for n in k.flat]
    if dt.kind in "OTU":
        return np.array([w[:dt.itemsize // 4] if dt.kind == "U" else w for w in words], dtype=object).reshape(7, 9)
    if dt.kind == "S":
        return np.array([w.encode()[:dt.itemsize] for w in words], dtype=dt).reshape(7, 9)
    if dt.kind == "c":
        return (k / 8.0 - 3.0 + 1j * (k % 5 - 2.0)).astype(dt)
    if dt.kind == "f":
        return (k / 4.0 - 3.0).astype(dt)
    counts = k * 1000 - 5000
    counts.flat[3] = np.iinfo("i8").min  # NaT
    return counts.view(dt.newbyteorder("="))


@pytest.mark.parametrize("fmt", [2] if ZARR2 else [2, 3])
def test_zarr_python_reads_what_array_spec_creates(fs, fmt):
    prefix = f"created-{'z2' if ZARR2 else 'z3'}-{uuid.uuid4().hex[:8]}"
    fs.mkdir(prefix)
    try:
        lines = [json.loads(x) for x in run_example("interop", "create", f"s3://{prefix}/v{fmt}", str(fmt), *CREATED).splitlines()]
        assert [x.get("error") for x in lines] == [None] * len(lines), lines
        for line in lines:
            z = z_open(fs, line["url"].removeprefix("s3://"))
            if line["dtype"] == "scalar":
                assert z.shape == () and z[()] == 42.5
                continue
            expected = CREATED[line["dtype"]]
            got = z[:]
            if expected == VBYTES:
                words = [["", "KDEN ", "Zürich", "東京"][n % 4] + str(n) for n in range(63)]
                assert z.dtype.kind == "O" and list(got.flat) == [w.encode() for w in words], line
                continue
            assert z.dtype.kind in "OT" if expected is None else z.dtype == np.dtype(expected), (line, z.dtype)
            want = created_pattern(z.dtype)
            if z.dtype.kind in "OTU":
                assert [str(v) for v in got.flat] == [str(v) for v in want.flat], line
            else:
                np.testing.assert_array_equal(got, want, err_msg=line["dtype"])
    finally:
        fs.rm(prefix, recursive=True)
