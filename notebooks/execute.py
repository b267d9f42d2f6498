"""Execute notebooks headless through the "Rust (Zarr)" kernel (nbclient) and save them.

    python execute.py OUT_DIR NOTEBOOK...

Fails (exit 1) on any error output or panic, naming the notebook and cell."""

import os
import queue
import sys
import time

import nbformat
from nbclient import NotebookClient

# How long one wait for a reply on the shell socket lasts before it looks again.
SHELL_POLL_S = 0.2


class Client(NotebookClient):
    """nbclient, minus a lost wake-up: when an Output widget receives output (notebook 05's
    slider), nbclient sends a comm_msg on the shell socket from its IOPub task while it waits for
    the cell's execute_reply on the same socket; a reply that arrives just then can go unnoticed
    until the cell's whole timeout has passed (jupyter/nbclient#312, open; 900 s here, 1 run in
    ~4). Waiting in short slices looks again every SHELL_POLL_S, and a fresh look finds it."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        get = kc.shell_channel.get_msg

        async def get_msg(timeout=None):
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = SHELL_POLL_S if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    return await get(timeout=min(SHELL_POLL_S, left))
                except queue.Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise

        kc.shell_channel.get_msg = get_msg
        return kc


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
out_dir, paths = sys.argv[1], sys.argv[2:]
os.makedirs(out_dir, exist_ok=True)
failed = False
for path in paths:
    nb = nbformat.read(path, as_version=4)
    t0 = time.monotonic()
    client = Client(nb, kernel_name="rust-zarr", timeout=900, startup_timeout=300,
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    try:
        client.execute()
    except Exception as e:  # nbclient raises on error outputs; say which cell, in one line
        print(f"execute.py: {os.path.basename(path)}: {str(e).strip().splitlines()[-1]}", file=sys.stderr)
        failed = True
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
            if out.get("output_type") == "error" or "panicked" in text:
                print(f"execute.py: {os.path.basename(path)} cell {i}: {out.get('ename', '')} {text[:300]}", file=sys.stderr)
                failed = True
    # Widgets' state (the slider and the map it drew) stays, so a saved notebook shows them; an
    # empty state (a notebook without widgets) is dropped.
    if not nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state"):
        nb.metadata.pop("widgets", None)
    target = os.path.join(out_dir, os.path.basename(path))
    nbformat.write(nb, target)
    print(f"execute.py: {os.path.basename(path)} ran in {time.monotonic() - t0:.1f} s -> {target}")
sys.exit(1 if failed else 0)
