"""Every notebook runs headless through the installed kernel against the loopback RGW; the array
notebook 02 writes is read back by zarr-python 2, zarr-python 3 and dask with the same mean; the
committed notebooks hold no secret and no machine path."""

import glob
import json
import math
import os
import re
import subprocess
import sys
import uuid

import nbformat
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NB = os.path.join(ROOT, "notebooks")
CACHE = os.environ.get("ZK_CACHE", os.path.expanduser("~/.cache/zarr-kernel"))
KEY, SECRET = os.environ["RGW_ALICE_KEY"], os.environ["RGW_ALICE_SECRET"]
# Notebook 05's setup has xarray write its dataset; the test then asks xarray for its numbers.
XARRAY_PYTHON = f"{CACHE}/venv-zarr3/bin/python"


def last_mean(nb):
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    means = re.findall(r"^mean = ([0-9.eE+-]+)$", text, re.M)
    assert means, "no 'mean = …' line"
    return float(means[-1])


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    out = tmp_path_factory.mktemp("executed")
    creds = out / "credentials"
    creds.write_text(f"[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
    creds.chmod(0o600)
    url = f"s3://zarrtest-nb-{uuid.uuid4().hex[:8]}/test.zarr"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ACCESS") and not k.startswith("AWS_SECRET")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_CONFIG_FILE=str(out / "config"), ZARR_WRITE_URL=url, ZARR_READ_URL=url,
               ZARR_XARRAY_PYTHON=XARRAY_PYTHON)
    nbs = [f"{NB}/02-write-random-array-to-object-store.ipynb", f"{NB}/01-read-zarr-from-object-store.ipynb",
           f"{NB}/03-tutorial-zarr-on-object-storage.ipynb", f"{NB}/04-lazy-arrays-climate.ipynb",
           f"{NB}/05-datasets-the-xarray-way.ipynb", f"{NB}/06-versioned-zarr-icechunk.ipynb"]
    r = subprocess.run([sys.executable, f"{NB}/execute.py", str(out), *nbs], env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout + r.stderr
    return out, url


def test_notebooks_run_clean_and_01_reads_what_02_wrote(executed):
    out, _ = executed
    nb1 = nbformat.read(out / "01-read-zarr-from-object-store.ipynb", 4)
    nb2 = nbformat.read(out / "02-write-random-array-to-object-store.ipynb", 4)
    assert last_mean(nb1) == last_mean(nb2)
    assert 0.49 < last_mean(nb2) < 0.51
    pngs = [o for c in nb1.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) >= 2, "imshow and histogram render as PNG"
    tables = [o for c in nb2.cells for o in c.get("outputs", []) if "<table>" in o.get("data", {}).get("text/html", "")]
    assert len(tables) >= 2, "listing and array summary render as HTML tables"
    # The store showed a live progress bar; the saved notebook keeps its final state (nbclient
    # applies update_display_data to the output with the same display id).
    bars = [o for c in nb2.cells for o in c.get("outputs", [])
            if o.get("output_type") == "display_data" and " chunks" in o.get("data", {}).get("text/plain", "")]
    assert len(bars) == 1, bars
    assert bars[0]["data"]["text/plain"].startswith("store s3://") and "100/100 chunks" in bars[0]["data"]["text/plain"]
    assert "#2ca02c" in bars[0]["data"]["text/html"] and "width:100.0%" in bars[0]["data"]["text/html"]
    # The tutorial's running-mean figure was redrawn in place: one output, the final figure.
    nb3 = nbformat.read(out / "03-tutorial-zarr-on-object-storage.ipynb", 4)
    live = [c for c in nb3.cells if c.cell_type == "code" and c.source.startswith('let fig = display("running mean')]
    assert len(live) == 1
    shown = [o for o in live[0].outputs if o.get("output_type") == "display_data"]
    assert len(shown) == 1 and shown[0]["data"]["image/png"].startswith("iVBOR"), live[0].outputs
    check_lazy_notebook(nbformat.read(out / "04-lazy-arrays-climate.ipynb", 4))
    check_dataset_notebook(nbformat.read(out / "05-datasets-the-xarray-way.ipynb", 4), xarray_check=True)
    check_versioned_notebook(nbformat.read(out / "06-versioned-zarr-icechunk.ipynb", 4))


def check_dataset_notebook(nb, xarray_check):
    """Notebook 05: no error, the repr and the figures, and (on the RGW) its spring mean equals
    xarray's on the dataset xarray wrote."""
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for c in nb.cells for o in c.get("outputs", []))
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"], text[-3000:]
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert "<b>Coordinates</b>" in html and "<b>Data variables</b>" in html and "t2m" in html
    assert "time (time) datetime (standard) 2020-01-01 … 2020-12-31" in text, text[:3000]
    assert "stored:  (" in text and "-32767.0)" in text and "NaN)" in text
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) == 2, "time-mean map, time series"
    check_slider(nb)
    mean = float(re.search(r"spring mean over North America: ([0-9.]+) K", text).group(1))
    if not xarray_check:
        return
    url = re.search(r"xarray \S+ wrote (s3://\S+)", text).group(1)  # the bucket is named after $USER, as the kernel saw it
    code = f"""
import os, xarray as xr
os.environ["AWS_REQUEST_CHECKSUM_CALCULATION"] = "when_required"
opts = {{"key": "{KEY}", "secret": "{SECRET}", "client_kwargs": {{"endpoint_url": "{os.environ['AWS_ENDPOINT_URL']}", "region_name": "RegionOne"}}}}
t = xr.open_zarr("{url}", storage_options=opts).t2m
print(float(t.sel(time=slice("2020-03-01", "2020-05-31"), lat=slice(60, 20), lon=slice(230, 300)).mean()))
"""
    r = subprocess.run([XARRAY_PYTHON, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert mean == pytest.approx(float(r.stdout.strip().splitlines()[-1]), abs=6e-5)


def check_slider(nb):
    """Notebook 05's slider: the cell shows an interact widget (a slider over the 366 days and an
    Output), and the saved widget state holds day 0's map, drawn by the Rust callback under
    nbclient."""
    cell = next(c for c in nb.cells if c.cell_type == "code" and "interact(IntSlider" in c.source)
    views = [o["data"]["application/vnd.jupyter.widget-view+json"] for o in cell.outputs
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1, cell.outputs
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = {m["model_name"]: m["state"] for m in state.values()}
    assert models["IntSliderModel"]["max"] == 365 and models["IntSliderModel"]["value"] == 0, models
    shown = models["OutputModel"]["outputs"]
    assert len(shown) == 1 and shown[0]["data"]["image/png"].startswith("iVBOR"), shown
    assert state[views[0]["model_id"]]["model_name"] == "VBoxModel"


def check_lazy_notebook(nb):
    """Notebook 04's printed numbers against their closed forms. The synthetic field's time mean
    is 255 + 45 mean(cos² lat) = 277.5 K (the seasonal and longitude terms cancel over whole
    periods); the anomaly's std is sqrt(12²/4 + 3²) (seasons of amplitude 12 sin(lat), halved
    twice by averaging sin² over latitudes and days, plus the 3 K weather); the frequency of
    anomalies above 5 K is the normal tail averaged over the grid's latitudes and the days. The
    rechunk went through its intermediate array."""
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for c in nb.cells for o in c.get("outputs", []))
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"], text[-3000:]
    mean = float(re.search(r"global time mean: ([0-9.]+) K", text).group(1))
    assert abs(mean - 277.5) < 0.01, mean
    std = float(re.search(r"anomaly: mean \S+ K, std ([0-9.]+) K", text).group(1))
    assert abs(std - math.sqrt(45.0)) < 0.02, std
    sigma = 3.0 * math.sqrt(1 - 1 / 365)  # the weather minus its own time mean
    tail = [0.5 * math.erfc((5.0 - 12.0 * math.sin(math.radians(90 - (i + 0.5) * 2)) * math.sin(2 * math.pi * (d - 80) / 365))
                            / (sigma * math.sqrt(2))) for i in range(90) for d in range(365)]
    warm = float(re.search(r"warm days \(anomaly > 5 K\): ([0-9.]+)%", text).group(1))
    assert abs(warm - 100 * sum(tail) / len(tail)) < 0.3, (warm, 100 * sum(tail) / len(tail))
    assert "largest capped anomaly: 5.0 K" in text
    assert "in two passes through" in text and "t2m-series.zarr.rechunk-tmp" in text, text[-3000:]
    assert re.search(r"time-series chunks: 1 chunks hold", text), text[-3000:]
    assert "do not broadcast" in text
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) == 3, "time-mean map, warm-day map, time series"


def check_versioned_notebook(nb):
    """Notebook 06: no error; the correction changed exactly its 10x40 box by -0.8; the branch's
    +1.5 scenario left main and the tag alone; the second writer was refused in one line, then
    rebased; the difference plot and the repository's tables rendered."""
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for c in nb.cells for o in c.get("outputs", []))
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"], text[-3000:]
    assert "changed cells: 400, largest change: -0.80 degC" in text, text[-3000:]
    m = re.search(r"mean SST: main ([0-9.-]+), experiment ([0-9.-]+), analysis-v1 ([0-9.-]+) degC", text)
    main, experiment, tagged = map(float, m.groups())
    assert abs(experiment - main - 1.5) < 0.002 and abs(tagged - main - 0.8 * 400 / (90 * 180)) < 0.002, m.groups()
    refused = re.search(r"second writer: (.*)", text).group(1)
    assert "another session committed to the branch first" in refused and "session.rebase()" in refused, refused
    assert "sea ice in the south-east" in text.split("second writer:")[-1], text[-2000:]
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) == 1, "the difference map"
    reprs = [o for c in nb.cells for o in c.get("outputs", []) if "Icechunk repository" in o.get("data", {}).get("text/html", "")]
    assert len(reprs) == 2 and "analysis-v1" in reprs[1]["data"]["text/html"], "the repository's tables"


@pytest.mark.parametrize("stack", ["zarr2", "zarr3"])
def test_python_reads_the_written_array_with_the_same_mean(executed, stack):
    out, url = executed
    expected = last_mean(nbformat.read(out / "02-write-random-array-to-object-store.ipynb", 4))
    code = f"""
import dask.array as da, s3fs, zarr, json
fs = s3fs.S3FileSystem(anon=True, client_kwargs={{"endpoint_url": "{os.environ['AWS_ENDPOINT_URL']}"}})
path = "{url[5:]}"
if zarr.__version__.startswith("2."):
    z = zarr.open(s3fs.S3Map(path, s3=fs, check=False), mode="r")
else:
    z = zarr.open(zarr.storage.FsspecStore.from_url("s3://" + path, storage_options={{"anon": True, "client_kwargs": {{"endpoint_url": "{os.environ['AWS_ENDPOINT_URL']}"}}}}, read_only=True), mode="r")
print(json.dumps({{"shape": list(z.shape), "dtype": str(z.dtype), "mean": float(da.from_zarr(z).astype("f8").mean().compute())}}))
"""
    r = subprocess.run([f"{CACHE}/venv-{stack}/bin/python", "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["shape"] == [1000, 1000] and got["dtype"] == "float32"
    assert got["mean"] == pytest.approx(expected, rel=1e-12)


ANY_DTYPE = """
import sys, numpy as np, zarr
url, dtype = sys.argv[1], sys.argv[2]
store = zarr.storage.FsspecStore.from_url(url, storage_options={"key": sys.argv[3], "secret": sys.argv[4],
    "client_kwargs": {"endpoint_url": sys.argv[5], "region_name": "RegionOne"}})
z = zarr.create_array(store, shape=(200, 300), chunks=(100, 100), dtype=dtype, zarr_format=2, overwrite=True)
i, j = np.indices(z.shape)
k = (i * 7 + j) % 11
z[:] = np.vectorize(lambda v: f"s{v}")(k) if dtype == "str" else (k / 10).astype(dtype) if np.dtype(dtype).kind in "fb" else k.astype(dtype)
"""


def test_notebook_01_reads_arrays_of_any_dtype(tmp_path):
    """The reference read notebook, unchanged, on arrays zarr-python wrote in other dtypes: numbers
    get their statistics and plots, text its slice and one line saying why there is no more."""
    bucket = f"zarrtest-dtypes-{uuid.uuid4().hex[:8]}"
    subprocess.run([os.environ["INTEROP_BIN"], "mkdir", bucket], env=alice_env(), check=True, timeout=60)
    subprocess.run([os.environ["INTEROP_BIN"], "public", bucket], env=alice_env(), check=True, timeout=60)
    numeric = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float64", "bool"]
    cases = [(d, d) for d in numeric] + [(">i4", "int32"), ("str", "string"), ("complex64", "complex64"),
                                         ("M8[s]", "datetime64[s]")]
    for dtype, shown in cases:
        url = f"s3://{bucket}/{dtype.replace('>', 'be-').replace('[', '-').replace(']', '')}.zarr"
        w = subprocess.run([XARRAY_PYTHON, "-c", ANY_DTYPE, url, dtype, KEY, SECRET, os.environ["AWS_ENDPOINT_URL"]],
                           capture_output=True, text=True, timeout=300)
        assert w.returncode == 0, w.stderr[-2000:]
        out = tmp_path / url.split("/")[-1]
        env = dict(os.environ, ZARR_READ_URL=url)
        r = subprocess.run([sys.executable, f"{NB}/execute.py", str(out), f"{NB}/01-read-zarr-from-object-store.ipynb"],
                           env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"{dtype}: {r.stdout[-3000:]}{r.stderr[-3000:]}"
        nb = nbformat.read(out / "01-read-zarr-from-object-store.ipynb", 4)
        text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for c in nb.cells for o in c.get("outputs", []))
        assert f"{shown}, shape [5, 5]" in text, f"{dtype}: {text[-2000:]}"
        assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"], text[-2000:]
        if shown in ("string", "complex64", "datetime64[s]"):
            assert f"holds {shown} values: statistics and plots are for numbers" in text, text[-2000:]
            assert "mean = " not in text and "Figure" not in text, text[-2000:]
            assert dtype != "str" or '"s0"' in text, text[-2000:]
        else:
            assert "mean = " in text and "Figure 640x480 (PNG)" in text, f"{dtype}: {text[-2000:]}"


def alice_env():
    return dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="RegionOne")


def test_run_sh_falls_back_to_a_local_directory_store(tmp_path):
    """Where the loopback RGW cannot start (here: its port is taken by the test server), the
    README's first command still runs every notebook, on a directory standing in for S3."""
    port = os.environ["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("ZARR_")}
    env.update(RGW_PORT=port, ZK_PYTHON=sys.executable, ZK_NOTEBOOK_OUT=str(tmp_path), TMPDIR=str(tmp_path))
    r = subprocess.run(["bash", f"{NB}/run.sh"], env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "cannot run here" in r.stderr and "using the local directory store" in r.stderr, r.stderr
    nb1 = nbformat.read(tmp_path / "01-read-zarr-from-object-store.ipynb", 4)
    nb2 = nbformat.read(tmp_path / "02-write-random-array-to-object-store.ipynb", 4)
    assert last_mean(nb1) == last_mean(nb2) and 0.49 < last_mean(nb2) < 0.51
    nb3 = nbformat.read(tmp_path / "03-tutorial-zarr-on-object-storage.ipynb", 4)
    text = "".join(o.get("text", "") for c in nb3.cells for o in c.get("outputs", []))
    assert "does not check credentials" in text and "does not exist" in text, text[-2000:]
    check_lazy_notebook(nbformat.read(tmp_path / "04-lazy-arrays-climate.ipynb", 4))
    check_dataset_notebook(nbformat.read(tmp_path / "05-datasets-the-xarray-way.ipynb", 4), xarray_check=False)
    check_versioned_notebook(nbformat.read(tmp_path / "06-versioned-zarr-icechunk.ipynb", 4))
    assert not list(tmp_path.glob("zk-notebooks.*")), "the store is removed when done"


def test_committed_notebooks_hold_no_secret_or_machine_path():
    patterns = [re.compile(p) for p in (r"AKIA[0-9A-Z]{16}", r"aws_secret_access_key\s*=\s*\S", r"ZKALICE|ZKBOB",
                                        r"secret-for-loopback", r"/root/|/home/|/tmp/|/opt/|/work/")]
    files = glob.glob(f"{NB}/*.ipynb")
    assert len(files) == 6
    for f in files:
        nb = nbformat.read(f, 4)
        # Outputs, and what widgets drew (their saved state).
        outputs = json.dumps([c.get("outputs", []) for c in nb.cells]) + json.dumps(nb.metadata.get("widgets", {}))
        for p in patterns:
            assert not p.search(outputs), f"{os.path.basename(f)}: output matches {p.pattern}"
        unexecuted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and not c.get("execution_count")]
        assert not unexecuted, f"{os.path.basename(f)}: cells {unexecuted} have no committed outputs (run notebooks/run.sh --inplace)"
    for key in (KEY, SECRET):
        assert not any(key in open(f).read() for f in files)
