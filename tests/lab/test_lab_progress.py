"""JupyterLab in headless Chromium: notebook 02's write shows a live progress bar, rendered by
JupyterLab itself, a bar seen mid-run updates in place, and "Run All" stops at a failing cell.
Screenshots go to $ZK_ARTIFACTS (default tests/artifacts/); the fixtures are in conftest.py."""

import os
import time

import pytest
from conftest import ARTIFACTS, open_notebook, run_all, wait_or_explain

SLOW = """let mut bar = ProgressBar::new("simulated upload", 60);
for _ in 0..60 {
    std::thread::sleep(std::time::Duration::from_millis(100));
    bar.inc(1);
}
bar.finish();"""


# "Run All" of these must stop at the third cell.
FAILING = ['println!("one");', 'let kept = 2;', 'let n: i32 = "not a number".parse()?;', 'println!("four");',
           'println!("five {kept}");']

NOTEBOOKS = {"slow.ipynb": [SLOW], "failing.ipynb": FAILING}
COPIES = {"02.ipynb": "notebooks/02-write-random-array-to-object-store.ipynb"}


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
