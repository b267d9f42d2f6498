"""JupyterLab in headless Chromium: notebook 02's write shows a live progress bar, rendered by
JupyterLab itself, a bar seen mid-run updates in place, and "Run All" stops at a failing cell.
Screenshots go to $ZK_ARTIFACTS (default tests/artifacts/).

Needs: the kernelspec rust-zarr (JUPYTER_PATH), jupyterlab + playwright (tests/run.sh makes the
venv) and Debian's chromium. Runs on a local directory store: no S3 server needed."""

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

SLOW = """let mut bar = ProgressBar::new("simulated upload", 60);
for _ in 0..60 {
    std::thread::sleep(std::time::Duration::from_millis(100));
    bar.inc(1);
}
bar.finish();"""


# "Run All" of these must stop at the third cell.
FAILING = ['println!("one");', 'let kept = 2;', 'let n: i32 = "not a number".parse()?;', 'println!("four");',
           'println!("five {kept}");']


LAB_WORK = []  # the running JupyterLab's root dir (its server.log), for failure reports


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    work = tempfile.mkdtemp(prefix="zk-lab-")
    LAB_WORK[:] = [work]
    shutil.copy(f"{ROOT}/notebooks/02-write-random-array-to-object-store.ipynb", f"{work}/02.ipynb")
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "slow", "metadata": {}, "outputs": [],
                     "source": SLOW}],
          "metadata": {"kernelspec": {"name": "rust-zarr", "display_name": "Rust (Zarr)", "language": "rust"}},
          "nbformat": 4, "nbformat_minor": 5}
    with open(f"{work}/slow.ipynb", "w") as f:
        json.dump(nb, f)
    failing = dict(nb, cells=[{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
                               "outputs": [], "source": src} for i, src in enumerate(FAILING)])
    with open(f"{work}/failing.ipynb", "w") as f:
        json.dump(failing, f)
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


def bar_texts(page):
    return page.locator(".jp-OutputArea-output").all_inner_texts()


def test_a_bar_updates_in_place_in_jupyterlab(browser, lab):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page = open_notebook(browser, lab, "slow.ipynb")
    run_all(page)
    seen = set()
    deadline = time.monotonic() + 120
    mid_shot = False
    while time.monotonic() < deadline:
        texts = [t for t in bar_texts(page) if "simulated upload" in t]
        if texts:
            assert len(texts) == 1, texts  # one output, updated in place
            done = int(texts[0].split("/60 steps")[0].split()[-1])
            seen.add(done)
            if not mid_shot and 20 <= done <= 45:
                page.screenshot(path=f"{ARTIFACTS}/lab-progress-running.png")
                mid_shot = True
            if done == 60 and "ETA" not in texts[0]:
                break
        time.sleep(0.1)
    else:
        pytest.fail(f"the bar never finished; saw {sorted(seen)}")
    assert len(seen) >= 5, f"JupyterLab showed too few intermediate states: {sorted(seen)}"
    page.screenshot(path=f"{ARTIFACTS}/lab-progress-done.png")
    page.close()


def test_notebook_02_write_shows_its_bar_in_jupyterlab(browser, lab):
    page = open_notebook(browser, lab, "02.ipynb")
    run_all(page)
    page.wait_for_selector("text=/mean = 0\\.\\d+/", timeout=180_000)
    page.wait_for_selector("text=/100\\/100 chunks/", timeout=10_000)
    bar = page.locator(".jp-OutputArea-output", has_text="100/100 chunks")
    assert bar.count() == 1
    html = bar.first.inner_html()
    assert "width:100.0%" in html.replace(" ", "") and "store" in bar.first.inner_text()
    bar.first.scroll_into_view_if_needed()
    page.screenshot(path=f"{ARTIFACTS}/lab-notebook-02-write.png")
    page.close()


def test_run_all_stops_at_a_failing_cell(browser, lab):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page = open_notebook(browser, lab, "failing.ipynb")
    run_all(page)
    wait_or_explain(page, "text=/ParseIntError/", 120_000)
    # Let the queued cells' replies (aborted) arrive, then look at the model.
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                           timeout=60_000)
    time.sleep(1.0)
    cells = page.evaluate("""() => {
        const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
        const out = [];
        for (let i = 0; i < cells.length; i++) {
            const c = cells.get(i);
            out.push({count: c.executionCount, outputs: c.outputs.toJSON()});
        }
        return out;
    }""")
    assert [c["count"] is not None for c in cells] == [True, True, True, False, False], cells
    assert cells[0]["outputs"][0]["text"].strip() == "one"
    err = cells[2]["outputs"]
    assert [o["output_type"] for o in err] == ["error"] and err[0]["ename"] == "ParseIntError", err
    assert cells[3]["outputs"] == [] and cells[4]["outputs"] == [], cells
    page.screenshot(path=f"{ARTIFACTS}/lab-run-all-stops.png")
    page.close()
