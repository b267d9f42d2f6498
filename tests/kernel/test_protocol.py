"""Every message of a realistic session is valid Jupyter (messaging spec 5.x): checked with the
schemas of jupyter_kernel_test (Jupyter's own, for jsonschema), plus what they leave open: no
`null` where the spec wants an object or a string, `transient` absent or an object, the
language_info that nbconvert and GitHub read, is_complete for unfinished code.

Runs on a local directory store: no S3 server needed."""

import datetime
import os
import sys
import tempfile
import time

import pytest
from jupyter_kernel_test.msgspec_v5 import validate_message

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "kernel"))
sys.path.insert(0, os.path.dirname(__file__))
from jupyter_driver import Session  # noqa: E402
from wire import execute, gather  # noqa: E402

KERNEL = "rust-zarr"

SESSION_CELLS = [
    'println!("hello");\neprintln!("to stderr");',
    "1 + 1",
    'let h = display(&Html("<b>first</b>".into()));\nh.update("second");\nclear_output(true);\nprintln!("after clear");',
    'let z: ZarrArray = create_array(&format!("{}/a.zarr", std::env::var("ZK_DIR").unwrap()), '
    '&ArraySpec::new([4, 4], [2, 2], "f4"))?;',
    "z",
    'let mut bar = ProgressBar::new("steps", 3);\nfor _ in 0..3 { bar.inc(1); }\nbar.finish();',
    "imshow(&Array2::<f64>::zeros((3, 3)))?",
    'let n: i32 = "x".parse()?;',
    'let v: Vec<u8> = vec![];\nv[1]',
    "let x = ;",
]


def reply(kc, msg_id, timeout=120):
    """The shell reply to `msg_id` (other replies are not expected here)."""
    while True:
        m = kc.get_shell_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") == msg_id:
            return m


def no_nulls(value, path="content"):
    """The spec has no field whose value may be null in what a kernel sends."""
    if value is None:
        raise AssertionError(f"{path} is null")
    if isinstance(value, dict):
        for k, v in value.items():
            no_nulls(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            no_nulls(v, f"{path}[{i}]")


def check(channel, msg):
    content = msg["content"]
    no_nulls(content)
    # jupyter_client turns a date into a datetime only when it has at most 6 fractional digits
    # (else the client gets a string, and comparing message times fails).
    for part in ("header", "parent_header"):
        if msg[part]:
            assert isinstance(msg[part]["date"], datetime.datetime), f"{part} date {msg[part]['date']!r}"
    if msg["msg_type"] == "execute_reply" and content.get("status") == "aborted":
        # jupyter_kernel_test only knows the documented typo "abort"; kernels send "aborted".
        assert msg["parent_header"]["msg_type"] == "execute_request"
        return
    validate_message(msg, msg["msg_type"])
    if "transient" in content:
        assert isinstance(content["transient"], dict), msg
    if msg["msg_type"] == "execute_reply":
        assert content["user_expressions"] == {} and content["payload"] == [], content


@pytest.fixture(scope="module")
def store():
    with tempfile.TemporaryDirectory() as d:
        yield d


def test_every_message_of_a_session_is_valid(store):
    seen = []
    with Session(KERNEL, env={"ZK_DIR": store, "AWS_ENDPOINT_URL": f"file://{store}"}) as s:
        kc = s.kc
        info = reply(kc, kc.kernel_info())
        seen.append(("shell", info))
        li = info["content"]["language_info"]
        assert li["name"] == "rust" and li["file_extension"] == ".rs" and li["mimetype"] == "text/rust", li
        assert li["codemirror_mode"] == "rust" and li["pygments_lexer"] == "rust", li
        assert li["version"].count(".") == 2 and li["version"][0].isdigit(), li

        # A whole session's kinds of output, including errors and an aborted request.
        for code in SESSION_CELLS:
            ex = execute(kc, code, seen=seen)
            assert ex.reply is not None
        failing = kc.execute('let n: i32 = "x".parse()?;', allow_stdin=False)
        queued = kc.execute("2 + 2", allow_stdin=False)
        _, aborted = gather(kc, [failing, queued], seen=seen)
        assert aborted.status == "aborted"

        for code, pos in (("let v = Vec::<u8>::ne", 20), ("std::collections::Has", 21)):
            seen.append(("shell", reply(kc, kc.complete(code, pos))))
        seen.append(("shell", reply(kc, kc.inspect("Vec::new", 5))))
        seen.append(("shell", reply(kc, kc.inspect("zzz_no_such_thing", 3))))
        for code, status in (("fn f() {", "incomplete"), ("let s = \"open", "incomplete"), ("}", "invalid"),
                             ("let x = 1;", "complete"), ("let v = vec![\n1,", "incomplete")):
            r = reply(kc, kc.is_complete(code))
            seen.append(("shell", r))
            assert r["content"]["status"] == status, (code, r["content"])
            if status == "incomplete" and code.startswith("fn"):
                assert r["content"]["indent"] == "    "
        seen.append(("shell", reply(kc, kc.history(hist_access_type="tail", n=10))))
        seen.append(("shell", reply(kc, kc.comm_info())))

        # Interrupt a running cell, on the control channel.
        running = kc.execute('println!("started");\nloop { check_interrupt()?; '
                             'std::thread::sleep(std::time::Duration::from_millis(10)); }', allow_stdin=False)
        while True:
            m = kc.get_iopub_msg(timeout=60)
            seen.append(("iopub", m))
            if m["parent_header"].get("msg_id") == running and m["msg_type"] == "stream":
                break
        kc.control_channel.send(kc.session.msg("interrupt_request", {}))
        seen.append(("control", kc.control_channel.get_msg(timeout=10)))
        (ex,) = gather(kc, [running], seen=seen)
        assert ex.reply["content"]["ename"] == "Interrupted"

        # Shut down, on the control channel.
        kc.control_channel.send(kc.session.msg("shutdown_request", {"restart": False}))
        seen.append(("control", kc.control_channel.get_msg(timeout=10)))
        while True:
            try:
                seen.append(("iopub", kc.get_iopub_msg(timeout=1)))
            except Exception:
                break
    types = {m["msg_type"] for _, m in seen}
    for t in ("execute_result", "display_data", "update_display_data", "clear_output", "error", "stream",
              "complete_reply", "inspect_reply", "is_complete_reply", "history_reply", "comm_info_reply",
              "kernel_info_reply", "interrupt_reply", "shutdown_reply", "execute_input", "status"):
        assert t in types, f"the session never produced {t}"
    problems = []
    for channel, m in seen:
        try:
            check(channel, m)
        except Exception as e:  # collect them all
            problems.append(f"{channel} {m['msg_type']}: {e}\n  {m['content']}")
    assert not problems, "\n".join(problems)
    print(f"{len(seen)} messages of {len(types)} types validated")


def raw(kc, channel, msg_type, content):
    """Send a message whose content is exactly `content` (no fields filled in by the client)."""
    msg = kc.session.msg(msg_type, content)
    getattr(kc, f"{channel}_channel").send(msg)
    return msg["header"]["msg_id"]


def test_requests_missing_optional_fields_and_unknown_requests_are_answered():
    """Every request gets a reply: optional fields left out get the spec's defaults; a type the
    kernel does not serve, or a request it cannot read, an error reply; never silence."""
    with Session(KERNEL) as s:
        kc = s.kc
        for code in ("let a = 1;", "a + 1", "a + 2"):
            assert execute(kc, code).status == "ok"
        # A history search with neither `n` nor `unique`, a tail without `n`: the defaults.
        r = reply(kc, raw(kc, "shell", "history_request",
                          {"hist_access_type": "search", "pattern": "a + *", "output": False, "raw": True}), 30)
        assert [h[2] for h in r["content"]["history"]] == ["a + 1", "a + 2"], r["content"]
        r = reply(kc, raw(kc, "shell", "history_request", {"hist_access_type": "tail"}), 30)
        assert len(r["content"]["history"]) == 3, r["content"]
        # An execute request with only its code.
        msg_id = raw(kc, "shell", "execute_request", {"code": "a + 10"})
        (ex,) = gather(kc, [msg_id])
        assert ex.status == "ok" and ex.outputs("execute_result")[0]["content"]["data"]["text/plain"] == "11"
        # A completion without cursor_pos (the end of the code).
        r = reply(kc, raw(kc, "shell", "complete_request", {"code": "std::collections::BTreeM"}), 120)
        assert "BTreeMap" in r["content"]["matches"], r["content"]
        # What the kernel cannot read, or does not serve: an error reply naming it.
        r = reply(kc, raw(kc, "shell", "execute_request", {"silent": False}), 30)
        assert r["msg_type"] == "execute_reply" and r["content"]["status"] == "error", r
        assert "cannot read this execute_request" in r["content"]["evalue"], r["content"]
        r = reply(kc, raw(kc, "shell", "frobnicate_request", {}), 30)
        assert r["msg_type"] == "frobnicate_reply" and r["content"]["ename"] == "NotImplemented", r
        r = reply(kc, raw(kc, "shell", "connect_request", {}), 30)
        assert r["msg_type"] == "connect_reply" and r["content"]["status"] == "error", r
        # On control: a debug request fails as the Debug Adapter Protocol says; unknown ones too.
        raw(kc, "control", "debug_request", {"type": "request", "seq": 7, "command": "debugInfo", "arguments": {}})
        r = kc.control_channel.get_msg(timeout=10)
        assert r["msg_type"] == "debug_reply", r
        assert r["content"]["success"] is False and r["content"]["request_seq"] == 7, r["content"]
        raw(kc, "control", "usage_request", {})
        r = kc.control_channel.get_msg(timeout=10)
        assert r["msg_type"] == "usage_reply" and r["content"]["status"] == "error", r
        # And the kernel goes on.
        assert execute(kc, "a + 3").status == "ok"


def test_a_replayed_request_runs_once(tmp_path):
    """A signed message sent twice (the same bytes, the same signature) runs once: ipykernel
    drops a signature it has seen, so a captured request cannot be replayed."""
    count = tmp_path / "count"
    with Session(KERNEL) as s:
        kc = s.kc
        code = (f'use std::io::Write;\nlet mut f = std::fs::OpenOptions::new().append(true).create(true)'
                f'.open("{count}")?;\nf.write_all(b"x")?;')
        msg = kc.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                                 "user_expressions": {}, "allow_stdin": False,
                                                 "stop_on_error": True})
        kc.shell_channel.send(msg)
        kc.shell_channel.send(msg)  # the very same message: same header, same signature
        (ex,) = gather(kc, [msg["header"]["msg_id"]])
        assert ex.status == "ok"
        # A later, different request is answered; the replay never was.
        assert execute(kc, "1 + 1").status == "ok"
        time.sleep(1)
        replies = []
        while True:
            try:
                replies.append(kc.get_shell_msg(timeout=0.5))
            except Exception:
                break
        assert not [m for m in replies if m["parent_header"].get("msg_id") == msg["header"]["msg_id"]], replies
    assert count.read_text() == "x", "the replayed request ran again"
