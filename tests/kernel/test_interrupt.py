"""Interrupt (Kernel → Interrupt) stops the running cell and keeps the kernel's variables: prelude
calls, their chunk loops and a user's progress bar end the cell with an `Interrupted` error
within 2 s; only a loop that never looks (a bare `thread::sleep` loop) is ended with its process,
and the error says the variables are gone.

Needs the loopback RGW env (AWS_ENDPOINT_URL, RGW_ALICE_KEY/SECRET)."""

import os
import sys
import threading
import time
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "kernel"))
sys.path.insert(0, os.path.dirname(__file__))
from jupyter_driver import Session  # noqa: E402
from wire import execute, gather  # noqa: E402

KERNEL = "rust-zarr"
KEY, SECRET = os.environ["RGW_ALICE_KEY"], os.environ["RGW_ALICE_SECRET"]
os.environ.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="RegionOne")


@pytest.fixture(scope="module")
def kernel():
    with Session(KERNEL) as s:
        bucket = f"intr-{uuid.uuid4().hex[:8]}"
        r = execute(s.kc, f'let fs = S3FileSystem::new()?;\nfs.mkdir("{bucket}")?;\nlet kept = 7u64;\n'
                          f'let bucket = String::from("{bucket}");')
        assert r.status == "ok", r.iopub
        s.bucket = bucket
        yield s


def interrupt_when(kernel, code, started, timeout=120):
    """Run `code`; interrupt as soon as `started(msg)` holds for one of its iopub messages.
    Returns (exchange, seconds from the interrupt to the reply)."""
    kc = kernel.kc
    when = {}

    def watch(m):
        if "t" not in when and started(m):
            when["t"] = time.monotonic()
            threading.Thread(target=kernel.interrupt).start()

    msg_id = kc.execute(code, allow_stdin=False)
    ex = gather(kc, [msg_id], timeout=timeout, on_iopub=watch)[0]
    assert "t" in when, f"never saw the cell start: {[m['content'] for m in ex.iopub]}"
    return ex, time.monotonic() - when["t"]


def text(m):
    return m["content"].get("text", "") + str(m["content"].get("data", {}).get("text/plain", ""))


def assert_interrupted_and_kept(kernel, ex, seconds, words):
    assert ex.status == "error", ex.reply["content"]
    err = ex.outputs("error")
    assert len(err) == 1, [m["content"] for m in ex.iopub]
    e = err[0]["content"]
    assert e["ename"] == "Interrupted", e
    assert "variables from earlier cells are kept" in e["evalue"], e
    for w in words:
        assert w in e["evalue"], e
    assert seconds < 2.0, f"took {seconds:.2f} s to stop"
    after = execute(kernel.kc, 'println!("{}", kept * 6);')
    assert after.status == "ok" and after.stdout().strip() == "42", after.iopub


def test_a_200_chunk_store(kernel):
    # 200 chunks of 1.6 MB: several seconds against the loopback RGW.
    code = ('let z = fs.create_array(&format!("{bucket}/big.zarr"), '
            '&ArraySpec::new([4000, 10000], [400, 500], "f8").overwrite(true))?;\n'
            'random([4000, 10000], [400, 500]).store(&z)?;')
    ex, s = interrupt_when(kernel, code, lambda m: m["msg_type"] == "display_data" and "store" in text(m))
    assert_interrupted_and_kept(kernel, ex, s, ["store", "of 200 chunks", "partly written"])
    # The bar says so too.
    last = [m for m in ex.iopub if m["msg_type"] == "update_display_data"][-1]
    assert "interrupted" in text(last), text(last)


def test_a_long_mean(kernel):
    code = ('let z = fs.create_array(&format!("{bucket}/mean.zarr"), '
            '&ArraySpec::new([4000, 4000], [500, 500], "f8").overwrite(true))?;\n'
            'random([4000, 4000], [500, 500]).store(&z)?;\n'
            'println!("started");\n'
            'let mut total = 0.0;\nfor _ in 0..1000 { total += z.mean()?; }')
    ex, s = interrupt_when(kernel, code, lambda m: m["msg_type"] == "stream" and "started" in text(m))
    assert_interrupted_and_kept(kernel, ex, s, ["mean.zarr"])


def test_a_progress_bar_loop(kernel):
    code = ('let mut bar = ProgressBar::new("my loop", 1000);\n'
            'for _ in 0..1000 {\n    std::thread::sleep(std::time::Duration::from_millis(20));\n    bar.inc(1);\n}')
    ex, s = interrupt_when(kernel, code, lambda m: m["msg_type"] == "display_data" and "my loop" in text(m))
    assert_interrupted_and_kept(kernel, ex, s, ["my loop"])
    last = [m for m in ex.iopub if m["msg_type"] == "update_display_data"][-1]
    assert "interrupted" in text(last), text(last)


def test_check_interrupt_in_a_users_loop(kernel):
    code = ('println!("started");\nloop {\n    check_interrupt()?;\n'
            '    std::thread::sleep(std::time::Duration::from_millis(10));\n}')
    ex, s = interrupt_when(kernel, code, lambda m: m["msg_type"] == "stream" and "started" in text(m))
    assert_interrupted_and_kept(kernel, ex, s, [])


def test_an_interrupt_does_not_leak_into_the_next_cell(kernel):
    # The interrupt lands while the cell is finishing on its own, outside any prelude call.
    code = 'println!("started");\nstd::thread::sleep(std::time::Duration::from_millis(300));'
    ex, _ = interrupt_when(kernel, code, lambda m: m["msg_type"] == "stream" and "started" in text(m))
    assert ex.status == "ok", ex.reply["content"]
    r = execute(kernel.kc, 'check_interrupt()?;\nprintln!("{}", fs.exists(&bucket)?);')
    assert r.status == "ok" and r.stdout().strip() == "true", r.iopub


def test_a_loop_that_never_looks_is_ended_and_says_so():
    with Session(KERNEL) as s:
        assert execute(s.kc, "let lost = 1;").status == "ok"
        code = 'println!("started");\nloop { std::thread::sleep(std::time::Duration::from_millis(100)); }'
        ex, seconds = interrupt_when(s, code, lambda m: m["msg_type"] == "stream" and "started" in text(m))
        e = ex.outputs("error")[0]["content"]
        assert ex.status == "error" and e["ename"] == "Interrupted", e
        assert "variables from earlier cells are gone" in e["evalue"], e
        assert 2.5 < seconds < 10, seconds
        r = execute(s.kc, 'println!("alive");')
        assert r.status == "ok" and r.stdout().strip() == "alive"
        # The idle kernel's interrupt is a no-op: nothing runs, nothing is lost.
        assert execute(s.kc, "let again = 2;").status == "ok"
        s.interrupt()
        time.sleep(0.5)
        r = execute(s.kc, 'println!("{again}");')
        assert r.status == "ok" and r.stdout().strip() == "2"
