"""JupyterLab in headless Chromium, shared by the tests here: a JupyterLab server on 127.0.0.1
with the notebooks a test module lists (its NOTEBOOKS: name -> cell sources, and COPIES: name ->
a notebook of the repository), and Debian's chromium driven by Playwright.

Needs: the kernelspec rust-zarr (JUPYTER_PATH), jupyterlab, jupyterlab_widgets and playwright
(tests/run.sh makes the venv) and Debian's chromium. Runs on a local directory store: no S3
server needed."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = os.environ.get("ZK_ARTIFACTS", os.path.join(ROOT, "tests", "artifacts"))
TOKEN = "zk-lab-test"

LAB_WORK = []  # the running JupyterLab's root dir (its server.log), for failure reports


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(request):
    work = tempfile.mkdtemp(prefix="zk-lab-")
    LAB_WORK[:] = [work]
    for name, path in getattr(request.module, "COPIES", {}).items():
        shutil.copy(f"{ROOT}/{path}", f"{work}/{name}")
    for name, cells in getattr(request.module, "NOTEBOOKS", {}).items():
        nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                         "source": src} for i, src in enumerate(cells)],
              "metadata": {"kernelspec": {"name": "rust-zarr", "display_name": "Rust (Zarr)", "language": "rust"}},
              "nbformat": 4, "nbformat_minor": 5}
        with open(f"{work}/{name}", "w") as f:
            json.dump(nb, f)
    os.makedirs(f"{work}/store")
    # User settings: no "fetch news?" question over the notebook, and every cell rendered (by
    # default JupyterLab renders only the cells in view, so outputs come and go from the DOM).
    for plugin, values in {"apputils-extension/notification": {"fetchNews": "false"},
                           "notebook-extension/tracker": {"windowingMode": "none"}}.items():
        os.makedirs(os.path.dirname(f"{work}/.lab-settings/@jupyterlab/{plugin}"), exist_ok=True)
        with open(f"{work}/.lab-settings/@jupyterlab/{plugin}.jupyterlab-settings", "w") as f:
            json.dump(values, f)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=f"file://{work}/store", USER="lab", JUPYTERLAB_SETTINGS_DIR=f"{work}/.lab-settings")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
         "--ServerApp.open_browser=False", *(["--allow-root"] if os.getuid() == 0 else [])],
        env=env, stdout=subprocess.DEVNULL, stderr=open(f"{work}/server.log", "w"))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if server.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start: " + open(f"{work}/server.log").read()[-2000:])
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def open_notebook(browser, lab, name):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    # A workspace of its own, reset: JupyterLab otherwise reopens the notebooks earlier pages had
    # open, and whichever it activates last becomes the current widget that Run All runs.
    page.goto(f"{lab}/lab/workspaces/{name.split('.')[0]}/tree/{name}?reset&token={TOKEN}")
    # The kernel is up when the toolbar's status says idle.
    # The notebook is the current widget and ready (its model loaded, its session attached).
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.context"
                           " && window.jupyterapp.shell.currentWidget.context.isReady"
                           f" && window.jupyterapp.shell.currentWidget.context.path === '{name}'"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.isReady"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                           timeout=180_000)
    return page


def state(page):
    """What the notebook's model and kernel say: the evidence when a wait times out."""
    return page.evaluate("""() => {
        const w = window.jupyterapp.shell.currentWidget;
        const cells = w.content.model.cells;
        const out = [];
        for (let i = 0; i < cells.length; i++) {
            const c = cells.get(i);
            out.push({count: c.executionCount, outputs: c.outputs.toJSON()});
        }
        return {kernel: w.sessionContext.session.kernel.status, cells: out};
    }""")


def wait_or_explain(page, selector, timeout_ms):
    try:
        page.wait_for_selector(selector, timeout=timeout_ms)
    except Exception as e:  # playwright's TimeoutError: say what the page and the server showed
        page.screenshot(path=f"{ARTIFACTS}/lab-timeout.png")
        log = open(f"{LAB_WORK[0]}/server.log").read()[-3000:] if LAB_WORK else ""
        pytest.fail(f"{selector} did not appear ({e.__class__.__name__}); notebook: {state(page)}; "
                    f"server log tail:\n{log}")


def run_all(page):
    # Not awaited: the command's promise resolves only when every cell has run.
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
