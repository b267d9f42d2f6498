"""papermill parameterises Rust notebooks through the installed kernel: install.sh put the Rust
translator (kernel/papermill) into the Python that runs Jupyter, the test venv here; every
parameter type becomes a typed `let`; a notebook without a `parameters` cell gets them first;
notebook 02 writes its array where `-p url` says."""

import json
import os
import subprocess
import sys
import uuid

import nbformat
import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KEY, SECRET = os.environ.get("RGW_ALICE_KEY"), os.environ.get("RGW_ALICE_SECRET")


def notebook(path, *cells, parameters=None):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "rust-zarr", "display_name": "Rust (Zarr)", "language": "rust"}
    if parameters is not None:
        p = nbformat.v4.new_code_cell(parameters)
        p.metadata["tags"] = ["parameters"]
        nb.cells.append(p)
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)


def papermill(src, out, *args, env=None):
    r = subprocess.run([sys.executable, "-m", "papermill", "-k", "rust-zarr", str(src), str(out), *args],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return nbformat.read(out, 4)


def text(nb):
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_install_put_the_translator_where_papermill_runs():
    r = subprocess.run([sys.executable, "-c", "import papermill_rust_zarr, papermill.translators as t; "
                        "print(t.papermill_translators.find_translator('rust-zarr', 'rust').__name__)"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "RustTranslator", r.stderr


# Each parameter's value, as papermill's YAML gives it, and what the cell prints: the value and
# its Rust type.
TYPED = """
println!("url={url:?} {}", std::any::type_name_of_val(&url));
println!("days={days} {}", std::any::type_name_of_val(&days));
println!("scale={scale} {}", std::any::type_name_of_val(&scale));
println!("tiny={tiny:e} nan={} {}", nan.is_nan(), std::any::type_name_of_val(&nan));
println!("flag={flag} {}", std::any::type_name_of_val(&flag));
println!("none={none:?} {}", std::any::type_name_of_val(&none));
println!("names={names:?} {}", std::any::type_name_of_val(&names));
println!("levels={levels:?} {}", std::any::type_name_of_val(&levels));
println!("cfg={cfg} {}", std::any::type_name_of_val(&cfg));
println!("mixed={mixed}");
println!("day={day} {}", std::any::type_name_of_val(&day));
"""

PARAMS = """
url: 's3://bucket/ü "quoted" \\\\ back\\nline.zarr'
days: 30
scale: 0.5
tiny: 1.0e-300
nan: .nan
flag: true
none: null
names: [KDEN, "K BOU", ""]
levels: [1000.0, 850.5]
cfg: {chunks: [1, 90, 180], codec: {id: zstd, level: 3}, raw: '"#'}
mixed: [1, two, 3.5, null]
day: 2020-03-01
"""


def test_every_parameter_type_becomes_a_typed_let(tmp_path):
    src = tmp_path / "typed.ipynb"
    notebook(src, TYPED, parameters='let url: String = String::from("default");\nlet days: i64 = 1;')
    nb = papermill(src, tmp_path / "out.ipynb", "-y", PARAMS)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and nb.cells.index(injected[0]) == 1, "after the parameters cell"
    out = text(nb)
    # Rust's Debug of a string escapes as JSON does, for these characters.
    url = json.dumps(yaml.safe_load(PARAMS)["url"], ensure_ascii=False)
    assert f"url={url} alloc::string::String" in out, out
    assert "days=30 i64" in out and "scale=0.5 f64" in out and "tiny=1e-300 nan=true f64" in out, out
    assert "flag=true bool" in out and "none=None core::option::Option<alloc::string::String>" in out, out
    assert 'names=["KDEN", "K BOU", ""] alloc::vec::Vec<alloc::string::String>' in out, out
    assert "levels=[1000.0, 850.5] alloc::vec::Vec<f64>" in out, out
    cfg = json.loads(out.split("cfg=")[1].split(" serde_json::value::Value")[0])
    assert cfg == {"chunks": [1, 90, 180], "codec": {"id": "zstd", "level": 3}, "raw": '"#'}, out
    assert 'mixed=[1,"two",3.5,null]' in out, out
    assert "day=2020-03-01 alloc::string::String" in out, out  # YAML's date, as its ISO text


def test_a_notebook_without_a_parameters_cell_gets_them_first(tmp_path):
    src = tmp_path / "plain.ipynb"
    notebook(src, 'println!("{} days", days * 2);')
    nb = papermill(src, tmp_path / "out.ipynb", "-p", "days", "21")
    assert "injected-parameters" in nb.cells[0].metadata.get("tags", [])
    assert "42 days" in text(nb)
    # And with no parameter at all it runs as it is.
    nb = papermill(tmp_path / "out.ipynb", tmp_path / "again.ipynb")
    assert "42 days" in text(nb)


@pytest.mark.skipif(not KEY, reason="needs the loopback RGW (tests/run.sh)")
def test_notebook_02_writes_where_the_url_parameter_says(tmp_path):
    creds = tmp_path / "credentials"
    creds.write_text(f"[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
    creds.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ACCESS", "AWS_SECRET", "ZARR_"))}
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_CONFIG_FILE=str(tmp_path / "config"))
    url = f"s3://papermill-{uuid.uuid4().hex[:8]}/from-parameter.zarr"
    nb = papermill(f"{ROOT}/notebooks/02-write-random-array-to-object-store.ipynb", tmp_path / "02.ipynb",
                   "-p", "url", url, "--cwd", f"{ROOT}/notebooks", env=env)
    assert f"writing to {url}" in text(nb)
    alice = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="RegionOne")
    r = subprocess.run([os.environ["INTEROP_BIN"], "stats", url], capture_output=True, text=True, timeout=120, env=alice)
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats["count"] == 1_000_000 and 0.49 < stats["mean"] < 0.51, stats


def test_a_parameter_rust_cannot_name_is_refused_in_one_line(tmp_path):
    src = tmp_path / "plain.ipynb"
    notebook(src, 'println!("never");')
    r = subprocess.run([sys.executable, "-m", "papermill", "-k", "rust-zarr", str(src), str(tmp_path / "out.ipynb"),
                        "-p", "type", "1"], capture_output=True, text=True, timeout=600)
    assert r.returncode != 0
    assert "parameter name 'type' is not a Rust variable name; rename it" in r.stderr, r.stderr[-2000:]
