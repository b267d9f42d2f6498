"""Run Rust cells in a kernel through jupyter_client and collect what Jupyter would show.

Used by install.sh (template prebuild), the kernel tests and the kernel bench.
`Session.run(code)` returns a `CellResult` with the reply status, stream text, rich outputs
(mime -> data) and error text.
"""

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from jupyter_client.manager import KernelManager


def tree_rss_mib(pid):
    """Resident memory of process `pid` and all its descendants (MiB): a kernel's whole cost."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True, check=True).stdout
    procs = [tuple(int(x) for x in line.split()) for line in out.splitlines() if line.strip()]
    tree, frontier = {pid}, [pid]
    while frontier:
        p = frontier.pop()
        for child, parent, _ in procs:
            if parent == p and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss for p, _, rss in procs if p in tree) / 1024


@dataclass
class CellResult:
    status: str = ""
    stdout: str = ""
    stderr: str = ""
    data: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def text(self):
        return self.stdout + self.stderr + "".join(self.errors) + self.data.get("text/plain", "")

    def ok(self):
        """The reply says ok and no error was shown."""
        return self.status == "ok" and not self.errors


class Session:
    def __init__(self, kernel_name=None, argv=None, env=None, ready_timeout=120):
        self.tmp = None
        if argv is not None:  # an ad-hoc kernelspec (prebuild)
            self.tmp = tempfile.mkdtemp(prefix="zk-spec-")
            os.makedirs(f"{self.tmp}/kernels/zk-adhoc")
            with open(f"{self.tmp}/kernels/zk-adhoc/kernel.json", "w") as f:
                json.dump({"argv": argv, "display_name": "adhoc", "language": "rust",
                           "interrupt_mode": "message", "env": env or {}}, f)
            os.environ["JUPYTER_PATH"] = self.tmp + os.pathsep + os.environ.get("JUPYTER_PATH", "")
            kernel_name = "zk-adhoc"
        self.km = KernelManager(kernel_name=kernel_name)
        t0 = time.monotonic()
        self.km.start_kernel(env={**os.environ, **(env or {})})
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=ready_timeout)
        except BaseException:
            # A kernel that never got ready is still a process we started: stop it.
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=True)
            raise
        self.ready_seconds = time.monotonic() - t0

    def run(self, code, timeout=600):
        res = CellResult()

        def hook(msg):
            t, c = msg["msg_type"], msg["content"]
            if t == "stream":
                if c["name"] == "stdout":
                    res.stdout += c["text"]
                else:
                    res.stderr += c["text"]
            elif t in ("execute_result", "display_data"):
                res.data.update(c["data"])
            elif t == "error":
                res.errors.append("\n".join(c.get("traceback") or [c.get("evalue", "")]))

        t0 = time.monotonic()
        reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=hook, allow_stdin=False)
        res.seconds = time.monotonic() - t0
        res.status = reply["content"]["status"]
        if res.status == "error" and not res.errors:
            res.errors.append(reply["content"].get("evalue", "error"))
        return res

    def interrupt(self):
        self.km.interrupt_kernel()

    def pid(self):
        return self.km.provisioner.process.pid

    def close(self):
        try:
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=False)
        finally:
            if self.tmp:
                os.environ["JUPYTER_PATH"] = os.environ.get("JUPYTER_PATH", "").replace(self.tmp + os.pathsep, "")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
