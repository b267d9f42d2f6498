"""Variables without a written type keep working across cells: the kernel learns each new
variable's type from the cell's own compile (no rust-analyzer pass), for the types notebooks
hold: the prelude's, ndarray's, serde_json's, std's, the notebook's own. What cannot be kept (a
closure, a borrow) says so in one error, and the kernel goes on.

Runs on a local directory store: no S3 server needed."""

import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "kernel"))
sys.path.insert(0, os.path.dirname(__file__))
from jupyter_driver import Session  # noqa: E402
from wire import execute  # noqa: E402

KERNEL = "rust-zarr"


@pytest.fixture(scope="module")
def kernel():
    with tempfile.TemporaryDirectory() as store:
        os.makedirs(f"{store}/vars")
        with Session(KERNEL, env={"AWS_ENDPOINT_URL": f"file://{store}", "RUST_BACKTRACE": "0"}) as s:
            yield s


def ok(kernel, code):
    r = execute(kernel.kc, code)
    assert r.status == "ok", (code, [m["content"] for m in r.iopub if m["msg_type"] in ("error", "stream")])
    return r


DEFINE = [
    'let fs = S3FileSystem::new()?;',
    'let z = fs.create_array("vars/a.zarr", &ArraySpec::new([4, 6], [2, 3], "f8"))?;',
    'z.write(&Array2::<f64>::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as f64))?;\nlet a = z.read::<f64>()?;',
    'let block = z.read_slice::<f64>(&[0..2, 0..3])?.into_dimensionality::<ndarray::Ix2>()?;',
    'let listing = fs.ls("vars")?;',
    'let meta = json!({"units": "K", "scale": 0.5});',
    'let counts: std::collections::HashMap<String, usize> = [("a".to_string(), 1)].into_iter().collect();\n'
    'let more = counts.clone();',
    'let words = vec!["x".to_string(), "y".to_string()];\nlet pair = (3u8, "three");\nlet maybe = words.first().cloned();',
    'let parsed = "12".parse::<i64>();',
    '#[derive(Debug, Clone)]\nstruct Station { name: String, t: f64 }\nlet st = Station { name: "A".into(), t: 12.5 };',
    'let mut total = 0u64;',
]
USE = ('total += a.len() as u64 + block.len() as u64;\n'
       'println!("{} {} {} {} {} {:?} {:?} {:?} {} {}", z.shape()[1], a.sum(), block[[1, 2]], listing.len(), '
       'meta["units"], more.get("a"), pair, maybe, parsed.clone()?, st.name);\nprintln!("{total} {:.1}", st.t);')


def test_untyped_variables_keep_their_types_across_cells(kernel):
    for code in DEFINE:
        ok(kernel, code)
    r = ok(kernel, USE)
    assert r.stdout() == '6 276 8 1 "K" Some(1) (3, "three") Some("x") 12 A\n30 12.5\n', r.stdout()
    r = ok(kernel, 'println!("{total}");')  # the mutable one was changed in place
    assert r.stdout().strip() == "30"


def test_a_cell_with_an_untyped_let_shows_its_final_value_richly(kernel):
    # (evcxr fell back to Debug text for the final value of such a cell: no longer.)
    r = ok(kernel, 'let again = fs.open_array("vars/a.zarr")?;\nfs.ls("vars")?')
    html = "".join(m["content"]["data"].get("text/html", "") for m in r.outputs("execute_result"))
    assert "<table>" in html and "a.zarr" in html, r.iopub
    r = ok(kernel, "again")
    html = "".join(m["content"]["data"].get("text/html", "") for m in r.outputs("execute_result"))
    assert "Zarr array" in html, r.iopub


@pytest.mark.parametrize("code,words", [
    ("let f = |x: i32| x + 1;", ["closure", "Box<dyn"]),
    ("let it = (0..3).map(|i| i * 2);", ["cannot be persisted"]),
    ("let v = vec![1, 2];\nlet first = &v[0];", ["non-static lifetime"]),
])
def test_what_cannot_be_kept_says_so(kernel, code, words):
    r = execute(kernel.kc, code)
    assert r.status == "error", r.reply["content"]
    text = " ".join(m["content"]["evalue"] for m in r.outputs("error"))
    for w in words:
        assert w in text, text
    ok(kernel, 'println!("{}", total);')
