"""Whatever a cell prints, every cell shows its own output and the session stays in step: invalid
UTF-8 on stdout or stderr (shown with U+FFFD), lines that look like the engine's own markers or
the display markers, output without a final newline (a cell's last `print!`).

Upstream evcxr read the engine's pipes line by line as UTF-8: one invalid byte ended the read,
and from then on every cell showed the previous cell's output (stdout) or panicked with "Broken
pipe" (stderr); a marker-like line ended a cell early; a cell ending without a newline never
ended. Runs on a local directory store: no S3 server needed."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "kernel"))
from jupyter_driver import Session  # noqa: E402

KERNEL = "rust-zarr"


@pytest.fixture(scope="module")
def session():
    with Session(KERNEL) as s:
        yield s


def next_five_show_their_own(s, tag):
    """Five ordinary cells after a hard one: each shows exactly its own output and value."""
    for i in range(5):
        r = s.run(f'println!("{tag} out {i}"); eprintln!("{tag} err {i}"); {i} * 10', timeout=120)
        assert r.ok(), r.text
        assert r.stdout == f"{tag} out {i}\n", (i, r.stdout)
        assert r.stderr == f"{tag} err {i}\n", (i, r.stderr)
        assert r.data.get("text/plain") == str(i * 10), (i, r.data)


def test_invalid_utf8_on_stdout(session):
    r = session.run('use std::io::Write;\nstd::io::stdout().write_all(b"A\\n\\xff\\xfe bad\\nB\\n")?;')
    assert r.ok(), r.text
    assert r.stdout == "A\n\ufffd\ufffd bad\nB\n", repr(r.stdout)
    next_five_show_their_own(session, "after stdout")


def test_invalid_utf8_on_stderr(session):
    r = session.run('use std::io::Write;\nstd::io::stderr().write_all(b"E\\xff\\xc3\\n")?;')
    assert r.ok(), r.text
    assert r.stderr == "E\ufffd\ufffd\n", repr(r.stderr)
    next_five_show_their_own(session, "after stderr")


def test_lines_that_look_like_the_engines_markers(session):
    lines = ["EVCXR_EXECUTION_COMPLETE", "EVCXR_BEGIN_CONTENT text/plain", "EVCXR_PANIC_NOTIFICATION",
             "EVCXR_ERROR_OCCURRED\tx\ty", "EVCXR_INPUT_REQUEST:name?", "EVCXR_END_CONTENT",
             "EVCXR_VARIABLE_CHANGED_TYPE:x", "ZARR_KERNEL_DISPLAY not json"]
    code = "".join(f'println!("{line.encode("unicode_escape").decode()}");\n' for line in lines)
    r = session.run(code + 'println!("last");')
    assert r.ok(), r.text
    assert r.stdout == "".join(f"{line}\n" for line in lines) + "last\n", repr(r.stdout)
    next_five_show_their_own(session, "after markers")


def test_output_without_a_final_newline(session):
    r = session.run('print!("no newline"); eprint!("err without one");')
    assert r.ok(), r.text
    assert r.stdout.rstrip("\n") == "no newline" and r.stderr.rstrip("\n") == "err without one", r.text
    # Text just before a value, or before a display, is the cell's own and comes first.
    r = session.run('print!("before the value "); 7')
    assert r.ok() and r.stdout.rstrip("\n") == "before the value " and r.data["text/plain"] == "7", r.text
    r = session.run('use std::io::Write;\nprint!("before a display "); std::io::stdout().flush()?;\ndisplay("shown");')
    assert r.ok() and r.stdout.rstrip("\n") == "before a display " and r.data["text/plain"] == "shown", r.text
    next_five_show_their_own(session, "after no newline")
