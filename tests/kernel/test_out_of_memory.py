"""A cell that runs out of memory gets one error that says so, with the limit the kernel runs
under and that the variables of earlier cells are gone; the kernel serves the next cell.

Two ways memory runs out: an address-space limit (`prlimit --as`, as `ulimit -v` on a login
node), where the allocation fails and Rust aborts; and a memory cgroup's limit (a JupyterHub
pod, a Slurm job), where the system's OOM killer ends the process with SIGKILL. The kernel is
started under each by a wrapper around the installed launcher."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "kernel"))
from jupyter_driver import Session  # noqa: E402

LAUNCH = Path(os.environ["ZK_TEST_PREFIX"]) / "share" / "rust-zarr-kernel" / "launch.sh"


def after_the_crash(s, r, gib_limit, how):
    assert r.status == "error", r.text
    assert len(r.errors) == 1, r.errors
    line = r.errors[0]
    assert "\n" not in line.strip(), line
    assert line.startswith("\x1b[0;31mOutOfMemory\x1b[0m: the cell ran out of memory"), line
    assert f"the kernel may use {gib_limit} ({how})" in line, line
    assert "variables from earlier cells are gone; re-run the cells you need" in line, line
    # The kernel goes on: a new process, without the old variables.
    r = s.run('println!("alive");')
    assert r.ok() and r.stdout == "alive\n", r.text
    r = s.run("println!(\"{}\", kept);")
    assert r.status == "error" and "kept" in r.text, r.text


def test_an_address_space_limit(tmp_path):
    limit = 3 << 30  # rustc, the server and the engine all fit; 16 GiB does not
    argv = ["prlimit", f"--as={limit}", str(LAUNCH), "{connection_file}"]
    with Session(argv=argv) as s:
        assert s.run("let kept = 41u32;").ok()
        r = s.run("let v = vec![1u8; 16 << 30];\nprintln!(\"{}\", v.len());")
        assert "memory allocation of 17179869184 bytes failed" in r.stderr, r.text
        assert "allocating 16.0 GiB failed" in r.errors[0], r.errors
        after_the_crash(s, r, "3.0 GiB", "its address-space limit (ulimit -v)")


def memory_cgroup():
    """A new child of this process's memory cgroup (v2, or v1's memory hierarchy), or None."""
    if os.getuid() != 0:
        return None
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            base = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
            if (base / "memory.limit_in_bytes").exists():
                return base / f"zk-oom-{os.getpid()}", "memory.limit_in_bytes"
        if controllers == "":
            base = Path("/sys/fs/cgroup") / path.lstrip("/")
            if (base / "cgroup.subtree_control").exists() and "memory" in (base / "cgroup.controllers").read_text():
                return base / f"zk-oom-{os.getpid()}", "memory.max"
    return None


@pytest.mark.skipif(memory_cgroup() is None, reason="needs root and a memory cgroup to make a child of")
def test_a_memory_cgroup_limit(tmp_path):
    group, limit_file = memory_cgroup()
    group.mkdir()
    try:
        (group / limit_file).write_text(str(3 << 29))  # 1.5 GiB
        if limit_file == "memory.limit_in_bytes" and (group / "memory.memsw.limit_in_bytes").exists():
            (group / "memory.memsw.limit_in_bytes").write_text(str(3 << 29))  # no swap either
        join = f'echo $$ > {group}/cgroup.procs && exec "$0" "$@"'
        with Session(argv=["sh", "-c", join, str(LAUNCH), "{connection_file}"]) as s:
            assert s.run("let kept = 41u32;").ok()
            # Every byte written, so the pages are really used (calloc's zero pages would not be).
            r = s.run("let v = vec![1u8; 3 << 30];\nprintln!(\"{}\", v.iter().map(|&b| b as u64).sum::<u64>());")
            assert "the system ended its process" in r.text, r.text
            after_the_crash(s, r, "1.5 GiB", "its memory cgroup's limit")
    finally:
        for _ in range(100):  # the kernel's processes leave as it shuts down
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)
        else:
            subprocess.run(["cat", str(group / "cgroup.procs")])
