"""Message-level helpers for the kernel tests: send requests through jupyter_client and keep
every message that comes back, per request (iopub up to idle, and the reply)."""

import time
from dataclasses import dataclass, field


@dataclass
class Exchange:
    """What one request got back."""

    msg_id: str
    reply: dict = None
    iopub: list = field(default_factory=list)

    def outputs(self, *types):
        return [m for m in self.iopub if m["msg_type"] in types]

    @property
    def status(self):
        return self.reply["content"]["status"]

    def stdout(self):
        return "".join(m["content"]["text"] for m in self.outputs("stream") if m["content"]["name"] == "stdout")


def gather(kc, msg_ids, timeout=300, on_iopub=None, seen=None):
    """Wait for the reply and the idle status of every request in `msg_ids` (sent already).
    `seen`, if given, receives every message read, for schema checks."""
    ex = {i: Exchange(i) for i in msg_ids}
    idle = set()
    deadline = time.monotonic() + timeout
    while len(idle) < len(ex) or any(e.reply is None for e in ex.values()):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no reply/idle for {[i for i in ex if i not in idle or ex[i].reply is None]}")
        got = False
        for channel, get in (("iopub", kc.get_iopub_msg), ("shell", kc.get_shell_msg)):
            try:
                m = get(timeout=0.05)
            except Exception:  # queue.Empty
                continue
            got = True
            if seen is not None:
                seen.append((channel, m))
            parent = m["parent_header"].get("msg_id")
            if parent not in ex:
                continue
            if channel == "shell":
                ex[parent].reply = m
                continue
            ex[parent].iopub.append(m)
            if on_iopub:
                on_iopub(m)
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                idle.add(parent)
        if not got:
            time.sleep(0.01)
    return [ex[i] for i in msg_ids]


def execute(kc, code, **kw):
    """Run one cell and wait for it."""
    return gather(kc, [kc.execute(code, allow_stdin=False)], **kw)[0]
