"""A failing cell is an error, as Jupyter clients expect: one `error` output, an execute_reply
with status "error" (ename, evalue, traceback), the execute requests already queued behind it
"aborted", and the variables made before it still there. nbclient stops at it.

Needs the loopback RGW env (AWS_ENDPOINT_URL, RGW_ALICE_KEY/SECRET) and INTEROP_BIN."""

import os
import shutil
import subprocess
import sys
import uuid

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "kernel"))
sys.path.insert(0, os.path.dirname(__file__))
from jupyter_driver import Session  # noqa: E402
from wire import execute, gather  # noqa: E402

KERNEL = "rust-zarr"
KEY, SECRET = os.environ["RGW_ALICE_KEY"], os.environ["RGW_ALICE_SECRET"]
# A developer's RUST_BACKTRACE=1 would add backtraces to every panic: these kernels get the default.
os.environ.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="RegionOne", RUST_BACKTRACE="0")


@pytest.fixture(scope="module")
def bucket():
    b = f"errors-{uuid.uuid4().hex[:8]}"
    subprocess.run([os.environ["INTEROP_BIN"], "mkdir", b], check=True)
    for name in ("small.zarr", "trunc.zarr"):
        subprocess.run([os.environ["INTEROP_BIN"], "write", f"s3://{b}/{name}", "v2-blosc-f8"], check=True)
    return b


@pytest.fixture(scope="module")
def kernel(bucket):
    with Session(KERNEL) as s:
        setup = execute(s.kc, f'let fs = S3FileSystem::new()?;\nlet before = 41u32;\n'
                              f'fs.pipe("{bucket}/bad.zarr/.zarray", b"{{not json")?;\n'
                              f'fs.pipe("{bucket}/trunc.zarr/0.0", b"xyz")?;')
        assert setup.status == "ok", setup.iopub
        yield s


# (code, ename, words the evalue must contain). The first eight go through the prelude; then a
# user's own errors, a panic in the cell's code and one inside a library call.
FAILURES = [
    ('S3FileSystem::builder().endpoint_url("http://127.0.0.1:1").max_attempts(1).build()?.ls("some-bucket")?;',
     "Connection", ["127.0.0.1:1"]),
    ('S3FileSystem::builder().key(std::env::var("AWS_ACCESS_KEY_ID").unwrap(), "wrong-secret").build()?.ls("{b}")?;',
     "Auth", ["secret"]),
    ('let z = fs.open_array("{b}/nope.zarr")?;', "NotFound", ["nope.zarr"]),
    ('let z = fs.open_array("{b}/bad.zarr")?;', "Metadata", ["bad.zarr/.zarray"]),
    ('let m = fs.open_array("{b}/trunc.zarr")?.mean()?;', "Codec", ["trunc.zarr", "0.0"]),
    ('let a = fs.open_array("{b}/small.zarr")?.read_slice::<f64>(&[0..1000, 0..1])?;', "InvalidInput", ["1000"]),
    ('fs.open_array("{b}/small.zarr")?.write(&Array2::<f64>::zeros((3, 3)))?;', None, ["[3, 3]", "shapes must match"]),
    ('let other = S3FileSystem::builder().profile("no-such-profile-zk").build()?;', "Config", ["no-such-profile-zk"]),
    ('let r: Result<u8, String> = Err(format!("my own error {}", 42));\nlet x = r?;', "String", ["my own error 42"]),
    ('let n: i32 = "x1".parse()?;', "ParseIntError", ["invalid digit"]),
    ('let v: Vec<u8> = vec![];\nlet x = v[3];\nprintln!("{x}");', "panic", ["index out of bounds"]),
    ('let a = Array2::<f32>::zeros((2, 2));\nlet b = a.slice(s![0..5, ..]).to_owned();', "panic", []),
]


@pytest.mark.parametrize("code,ename,words", FAILURES, ids=[f"{i}-{f[1]}" for i, f in enumerate(FAILURES)])
def test_a_failing_cell_is_an_error_and_aborts_what_was_queued(kernel, bucket, code, ename, words):
    kc = kernel.kc
    code = code.replace("{b}", bucket)
    failing = kc.execute(code, allow_stdin=False)
    queued = kc.execute('println!("must not run");', allow_stdin=False)
    failed, aborted = gather(kc, [failing, queued])
    assert failed.status == "error", failed.reply["content"]
    content = failed.reply["content"]
    errors = failed.outputs("error")
    assert len(errors) == 1, [m["content"] for m in failed.iopub]
    out = errors[0]["content"]
    assert (content["ename"], content["evalue"]) == (out["ename"], out["evalue"])
    if ename:
        assert out["ename"] == ename, out
    else:
        assert out["ename"] not in ("panic", "Error"), out
    for w in words:
        assert w in out["evalue"], out
    assert "\n" not in out["evalue"], "one line"
    assert out["traceback"] and out["evalue"] in out["traceback"][0], out["traceback"]
    # One line (and, for a panic, where): no std backtrace unless RUST_BACKTRACE asks.
    assert len(out["traceback"]) <= 2, out["traceback"]
    assert not any("stack backtrace" in m["content"].get("text", "") for m in failed.outputs("stream"))
    if ename == "panic":
        assert out["traceback"][1].startswith("   at "), out["traceback"]
    assert aborted.status == "aborted", aborted.reply["content"]
    assert not aborted.outputs("stream", "error", "execute_result"), aborted.iopub
    # The kernel goes on, with the variables made before.
    after = execute(kc, 'println!("{}", before + 1);')
    assert after.status == "ok" and after.stdout().strip() == "42", after.iopub


def test_a_panic_in_the_cell_says_which_line(kernel):
    r = execute(kernel.kc, 'let ok = 1;\nlet v: Vec<u8> = vec![];\nlet x = v[ok + 5];\nprintln!("{x}");')
    tb = r.outputs("error")[0]["content"]["traceback"]
    assert tb[1] == "   at cell line 3", tb


def test_rust_backtrace_adds_the_backtrace(bucket):
    with Session(KERNEL, env={"RUST_BACKTRACE": "1"}) as s:
        r = execute(s.kc, 'fn inner_fn() -> u8 { let v: Vec<u8> = vec![]; v[3] }\nlet x = inner_fn();')
        tb = r.outputs("error")[0]["content"]["traceback"]
        # From the panicking frame of the cell's code down to the cell: no hook or std frames.
        assert len(tb) > 3 and "inner_fn" in tb[2] or "index" in tb[2], tb
        assert not any("panic_with_hook" in line or "zarr_prelude::panic" in line for line in tb), tb
        assert not any("evcxr::runtime" in line for line in tb), tb
        # The report is the cell's, every time: never late (the cell's error without it, and a
        # stale report on the next panic).
        for i in range(20):
            r = execute(s.kc, f'let v: Vec<u8> = vec![]; let y = v[{i} + 100];')
            assert r.reply["content"]["evalue"].endswith(f"is {i + 100}"), (i, r.reply["content"])


def test_a_user_error_keeps_the_cells_earlier_variables(kernel):
    kc = kernel.kc
    assert execute(kc, "let kept = String::from(\"still here\");").status == "ok"
    r = execute(kc, 'let lost = 5;\nlet n: u8 = "300".parse()?;')
    assert r.status == "error" and r.reply["content"]["ename"] == "ParseIntError"
    assert execute(kc, 'println!("{kept}");').stdout().strip() == "still here"
    # Not stop_on_error: the next request runs.
    failing = kc.execute('let n: u8 = "300".parse()?;', stop_on_error=False, allow_stdin=False)
    nxt = kc.execute('println!("ran");', allow_stdin=False)
    a, b = gather(kc, [failing, nxt])
    assert a.status == "error" and b.status == "ok" and b.stdout().strip() == "ran"


def test_a_panic_the_cell_catches_is_not_an_error(kernel):
    r = execute(kernel.kc, '{\n    let r = std::panic::catch_unwind(|| panic!("caught"));\n    println!("{}", r.is_err());\n}')
    assert r.status == "ok", r.reply["content"]
    assert r.stdout().strip() == "true"
    assert "caught" in "".join(m["content"]["text"] for m in r.outputs("stream")), r.iopub


def test_nbclient_stops_at_the_failing_cell(bucket, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Rust (Zarr)", "language": "rust"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in (
        "let fs = S3FileSystem::new()?;",
        'println!("second");',
        f'let z = fs.open_array("{bucket}/missing.zarr")?;',
        'println!("fourth");',
    )]
    client = NotebookClient(nb, timeout=300, kernel_name=KERNEL)
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert "NotFound" in str(info.value) and "missing.zarr" in str(info.value)
    out = nb.cells[2].outputs
    assert [o["output_type"] for o in out] == ["error"], out
    assert out[0]["ename"] == "NotFound" and "missing.zarr" in out[0]["evalue"]
    assert len(out[0]["traceback"]) == 1, out[0]["traceback"]
    assert nb.cells[3].outputs == [] and nb.cells[3].get("execution_count") is None
    nbformat.write(nb, tmp_path / "failed.ipynb")


def test_a_broken_startup_config_is_every_cells_error(tmp_path):
    """Without its prelude the kernel must not run cells as if it had one: each cell says why."""
    real = os.path.join(os.environ["ZK_TEST_PREFIX"], "share", "rust-zarr-kernel")
    data = tmp_path / "data"
    data.mkdir()
    for name in os.listdir(real):
        if name not in ("launch.sh", "config"):
            os.symlink(os.path.join(real, name), data / name)
    shutil.copy(os.path.join(real, "launch.sh"), data / "launch.sh")
    shutil.copytree(os.path.join(real, "config"), data / "config")
    with open(data / "config" / "prelude.rs", "a") as f:
        f.write("\nlet broken: u32 = \"not a number\";\n")
    with Session(argv=[str(data / "launch.sh"), "{connection_file}"]) as s:
        for _ in range(2):
            r = s.run('println!("hi");')
            assert r.status == "error" and "hi" not in r.stdout, r.text
            assert "startup config (init.evcxr, prelude.rs) failed" in r.text and "re-run install.sh" in r.text, r.text
