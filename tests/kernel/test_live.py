"""Live output through the kernel server (kernel/server): displays, in-place updates and progress
bars arrive while the cell runs, in order with its prints, and all before its reply.

Driven by jupyter_client at the message level: every iopub message of a request is kept with its
type, content and header date."""

import os
import sys
import tempfile
import time
from datetime import datetime

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "kernel"))
from jupyter_driver import Session, tree_rss_mib  # noqa: E402

KERNEL = "rust-zarr"


@pytest.fixture(scope="module")
def kernel():
    with Session(KERNEL) as s:
        # The engine starts in the background: the first cell may show its status line.
        assert s.run("1").ok()
        yield s


def run(s, code, timeout=120, on_msg=None):
    """Execute `code`; return (reply, iopub messages of this request up to idle)."""
    kc = s.kc
    msg_id = kc.execute(code, allow_stdin=False)
    msgs = []
    deadline = time.monotonic() + timeout
    while True:
        m = kc.get_iopub_msg(timeout=max(1, deadline - time.monotonic()))
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        msgs.append(m)
        if on_msg:
            on_msg(m)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    while True:
        reply = kc.get_shell_msg(timeout=max(1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply, msgs


def outputs(msgs):
    return [m for m in msgs if m["msg_type"] not in ("status", "execute_input")]


def display_id(m):
    return (m["content"].get("transient") or {}).get("display_id")


def stamp(m):
    return datetime.fromisoformat(m["header"]["date"]) if isinstance(m["header"]["date"], str) else m["header"]["date"]


def slow_bar(label, steps, ms):
    """A cell that advances a ProgressBar `steps` times, `ms` apart, then finishes it."""
    return f"""
let mut bar = ProgressBar::new("{label}", {steps});
for _ in 0..{steps} {{
    std::thread::sleep(std::time::Duration::from_millis({ms}));
    bar.inc(1);
}}
bar.finish();
"""


def test_a_progress_bar_updates_in_place_before_the_reply(kernel):
    code = slow_bar("steps", 20, 60) + 'println!("after the bar");\n'
    reply, msgs = run(kernel, code)
    assert reply["content"]["status"] == "ok", reply["content"]
    out = outputs(msgs)
    shown = [m for m in out if m["msg_type"] == "display_data"]
    updates = [m for m in out if m["msg_type"] == "update_display_data"]
    assert len(shown) == 1, [m["msg_type"] for m in out]
    bar_id = display_id(shown[0])
    assert bar_id and all(display_id(u) == bar_id for u in updates)
    # ~1.2 s of work at most 10 frames a second: several updates, never more than 10/s over the
    # time the bar ran (a loaded machine stretches the steps, not the rate), plus the final frame.
    ran = (stamp(updates[-1]) - stamp(shown[0])).total_seconds()
    assert 5 <= len(updates) <= 10 * ran + 2, (len(updates), ran)
    final = updates[-1]["content"]["data"]
    assert "20/20 steps" in final["text/plain"] and "ETA" not in final["text/plain"], final
    assert "<div" in final["text/html"] and "width:100.0%" in final["text/html"]
    first = shown[0]["content"]["data"]["text/plain"]
    assert "0/20 steps" in first, first
    # The print after the bar comes after its final state, and everything before the reply.
    types = [m["msg_type"] for m in out]
    assert types[-1] == "stream" and out[-1]["content"]["text"] == "after the bar\n", types
    assert all(stamp(m) <= stamp(reply) for m in out)


def test_display_at_any_point_keeps_order_with_prints(kernel):
    code = """
println!("one");
let h = display(&Html("<b>first</b>".into()));
println!("two");
h.update("second");
display(&line(&[1.0, 3.0, 2.0])?);
println!("three");
eprintln!("to stderr");
"""
    reply, msgs = run(kernel, code)
    assert reply["content"]["status"] == "ok", reply["content"]
    # stderr is its own stream: its place among stdout's outputs is not fixed.
    out = [m for m in outputs(msgs) if not (m["msg_type"] == "stream" and m["content"]["name"] == "stderr")]
    seq = [(m["msg_type"], m["content"].get("text") or sorted(m["content"].get("data", {}))) for m in out]
    assert seq == [
        ("stream", "one\n"),
        ("display_data", ["text/html", "text/plain"]),
        ("stream", "two\n"),
        ("update_display_data", ["text/plain"]),
        ("display_data", ["image/png", "text/plain"]),
        ("stream", "three\n"),
    ], seq
    assert display_id(out[1]) == display_id(out[3])
    assert out[4]["content"]["data"]["image/png"].startswith("iVBOR")
    assert any(m["msg_type"] == "stream" and m["content"] == {"name": "stderr", "text": "to stderr\n"}
               for m in outputs(msgs))


def test_clear_output_and_background_updates_between_cells(kernel):
    reply, msgs = run(kernel, 'println!("gone soon"); clear_output(true); println!("kept");')
    types = [m["msg_type"] for m in outputs(msgs)]
    assert types == ["stream", "clear_output", "stream"], types
    assert outputs(msgs)[1]["content"]["wait"] is True
    # A thread that outlives its cell updates through stderr, which the kernel reads at any time.
    code = """
let h = display("waiting");
let hb = h.for_background();
std::thread::spawn(move || {
    std::thread::sleep(std::time::Duration::from_millis(700));
    hb.update("updated from a background thread");
});
"""
    reply, msgs = run(kernel, code)
    shown = [m for m in outputs(msgs) if m["msg_type"] == "display_data"]
    assert reply["content"]["status"] == "ok" and len(shown) == 1
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        m = kernel.kc.get_iopub_msg(timeout=20)
        if m["msg_type"] == "update_display_data":
            assert display_id(m) == display_id(shown[0])
            assert m["content"]["data"]["text/plain"] == "updated from a background thread"
            break
    else:
        pytest.fail("no update from the background thread")


def test_prelude_writes_show_a_bar_and_quick_reads_do_not(kernel):
    path = tempfile.mkdtemp(prefix="zk-live-") + "/a.zarr"
    code = f"""
let z = create_array("{path}", &ArraySpec::new([400, 400], [40, 40], "f4").overwrite(true))?;
random([400, 400], [40, 40]).store(&z)?;
println!("sum {{}}", z.read::<f32>()?.sum() > 0.0);
"""
    reply, msgs = run(kernel, code)
    assert reply["content"]["status"] == "ok", reply["content"]
    out = outputs(msgs)
    shown = [m for m in out if m["msg_type"] == "display_data"]
    assert len(shown) == 1, [m["msg_type"] for m in out]  # the store; the read is quick: no bar
    assert shown[0]["content"]["data"]["text/plain"].startswith(f"store {path}"), shown[0]["content"]
    last = [m for m in out if m["msg_type"] == "update_display_data"][-1]["content"]["data"]["text/plain"]
    assert "100/100 chunks" in last and "MB/s" in last, last
    # ZARR_PROGRESS=always shows reads too; never shows nothing.
    reply, msgs = run(kernel, 'set_progress("always")?; z.read::<f32>()?; set_progress("never")?; z.read::<f32>()?;')
    shown = [m for m in outputs(msgs) if m["msg_type"] == "display_data"]
    assert len(shown) == 1 and shown[0]["content"]["data"]["text/plain"].startswith("read "), outputs(msgs)
    r = kernel.run('println!("{}", set_progress("sometimes").unwrap_err());')
    assert r.stdout.count("\n") == 1 and '"auto", "always" or "never"' in r.stdout, r.text
    run(kernel, 'set_progress("auto")?;')


def test_interrupt_mid_progress_leaves_the_bar_interrupted():
    with Session(KERNEL) as s:
        assert s.run("let before = 5;").ok()
        seen = []

        def on_msg(m):
            if m["msg_type"] == "update_display_data":
                seen.append(m)
                if len(seen) == 3:
                    s.interrupt()

        code = slow_bar("long job", 400, 100)
        t0 = time.monotonic()
        reply, msgs = run(s, code, on_msg=on_msg)
        assert time.monotonic() - t0 < 30, "the interrupt did not stop the cell"
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "Interrupted", reply["content"]
        out = outputs(msgs)
        bar_id = display_id([m for m in out if m["msg_type"] == "display_data"][0])
        updates = [m for m in out if m["msg_type"] == "update_display_data"]
        final = updates[-1]
        assert display_id(final) == bar_id
        assert final["content"]["data"]["text/plain"].endswith("· interrupted"), final["content"]["data"]
        assert "#d62728" in final["content"]["data"]["text/html"]
        errors = [m for m in out if m["msg_type"] == "error"]
        assert len(errors) == 1 and "long job interrupted at" in errors[0]["content"]["evalue"], errors
        # The error comes after the bar's final state; the kernel goes on, variables and all.
        assert out.index(errors[0]) > out.index(final)
        r = s.run('println!("alive {before}");')
        assert r.ok() and "alive 5" in r.stdout, r.text


def test_input_asks_the_frontend_on_stdin(kernel):
    kc = kernel.kc
    code = ('let name = input("bucket? "); let secret = input_password("secret? ");\n'
            'println!("got {name} and {} chars", secret.len());')
    msg_id = kc.execute(code, allow_stdin=True)
    prompts = []
    for answer in ["my-bucket", "s3cr3t-value"]:
        req = kc.get_stdin_msg(timeout=120)
        assert req["msg_type"] == "input_request" and req["parent_header"]["msg_id"] == msg_id
        prompts.append((req["content"]["prompt"], req["content"]["password"]))
        kc.input(answer)
    assert prompts == [("bucket? ", False), ("secret? ", True)]
    texts = []
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        texts.append(str(m["content"]))
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    assert any("got my-bucket and 12 chars" in t for t in texts), texts
    assert not any("s3cr3t-value" in t for t in texts), "the password was echoed"
    # Without stdin (nbclient), input() returns "" at once.
    r = kernel.run('println!("[{}]", input("ignored? "));')
    assert r.ok() and r.stdout == "[]\n", r.text


def test_completions_inspect_and_errors(kernel):
    kc = kernel.kc
    code = "let m = std::collections::HashM"
    msg_id = kc.complete(code, len(code))
    while True:
        m = kc.get_shell_msg(timeout=60)
        if m["parent_header"]["msg_id"] == msg_id:
            break
    c = m["content"]
    assert c["status"] == "ok" and "HashMap" in c["matches"], c
    assert (c["cursor_start"], c["cursor_end"]) == (len(code) - len("HashM"), len(code)), c
    # A prelude value completes to what a cell may call: its public API, not its internals.
    assert kernel.run('let fs = S3FileSystem::anon()?;').ok()
    code = "fs."
    msg_id = kc.complete(code, len(code))
    while (m := kc.get_shell_msg(timeout=60))["parent_header"]["msg_id"] != msg_id:
        pass
    names = [n.split("(")[0] for n in m["content"]["matches"]]
    assert {"ls", "open_array", "mkdir"} <= set(names), names
    assert not {"cfg", "err", "list_buckets"} & set(names), f"private items offered: {names}"
    # Inspect (Shift+Tab) with the cursor inside a word: std's and the prelude's documentation.
    for code, at, words in (("let v: Vec<u8> = Vec::new();", 8, ["pub struct Vec", "growable"]),
                            ("let fs = S3FileSystem::anon()?;\nfs.ls", 35, ["pub fn ls", "Buckets"])):
        msg_id = kc.inspect(code, at)
        while True:
            m = kc.get_shell_msg(timeout=60)
            if m["parent_header"]["msg_id"] == msg_id:
                break
        assert m["msg_type"] == "inspect_reply" and m["content"]["status"] == "ok", m
        assert m["content"]["found"] is True, (code, m["content"])
        for w in words:
            assert w in m["content"]["data"]["text/plain"], (w, m["content"]["data"])
    # A compile error is an error output drawn against the cell, and the reply says error.
    reply, msgs = run(kernel, 'let x: i32 = "a";')
    errors = [m for m in msgs if m["msg_type"] == "error"]
    assert reply["content"]["status"] == "error" and len(errors) == 1
    assert "mismatched types" in errors[0]["content"]["evalue"]
    assert any("expected `i32`" in line for line in errors[0]["content"]["traceback"])
    info = kc.kernel_info(reply=True)["content"]
    assert info["implementation"] == "zarr-kernel" and info["language_info"]["file_extension"] == ".rs"


def complete(kc, code):
    msg_id = kc.complete(code, len(code))
    while (m := kc.get_shell_msg(timeout=120))["parent_header"]["msg_id"] != msg_id:
        pass
    return [n.split("(")[0] for n in m["content"]["matches"]]


def test_an_idle_kernel_gives_rust_analyzers_memory_back():
    with Session(KERNEL, env={"ZK_ANALYSIS_IDLE_SECS": "2"}) as s:
        assert s.run("let fs = S3FileSystem::anon()?;").ok()
        pid = s.km.provisioner.process.pid
        before = tree_rss_mib(pid)
        assert "open_array" in complete(s.kc, "fs.")
        loaded = tree_rss_mib(pid)
        assert loaded > before + 200, (before, loaded)  # the database is there...
        # ...and most of it given back once idle (rust-analyzer's interned names stay).
        half = before + (loaded - before) / 2
        deadline = time.monotonic() + 30
        while tree_rss_mib(pid) > half and time.monotonic() < deadline:
            time.sleep(0.5)
        after = tree_rss_mib(pid)
        assert after < half, (before, loaded, after)
        assert s.run("let n = 2;").ok()
        assert "open_array" in complete(s.kc, "fs.")  # the next completion loads it again
