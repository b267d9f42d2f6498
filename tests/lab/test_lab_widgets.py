"""Widgets in JupyterLab itself (jupyterlab_widgets, as on the hub): `interact` draws a slider
and the map below it; moving the slider with the keyboard runs the Rust function in the kernel
and redraws the map in place (the screenshots differ); a button's callback shows its count in an Output
widget; a callback's error shows there and the widget keeps working. Screenshots go to
$ZK_ARTIFACTS."""

import os

from conftest import ARTIFACTS, open_notebook, run_all, wait_or_explain

SLIDER = """interact(IntSlider::new(0, 9).description("day"), |d| {
    if d == 3 {
        return Err(Error::new(ErrorKind::InvalidInput, "no data for day 3"));
    }
    println!("day {d}: {} K", 270 + d);
    // A map that differs from day to day.
    imshow(&Array2::from_shape_fn((40, 60), |(i, j)| ((i as f64) / 6.0 + (j as f64) / 9.0 + d as f64).sin()))
})"""

BUTTON = """let clicks = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
let button = Button::new("Add one");
let shown = Output::new();
{
    let (clicks, shown) = (clicks.clone(), shown.clone());
    button.on_click(move || {
        let n = clicks.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        shown.show(&Html(format!("<i class='zk-clicks'>clicked {n}</i>")));
    });
}
display(&button);
shown"""

NOTEBOOKS = {"widgets.ipynb": [SLIDER, BUTTON]}


def test_a_slider_redraws_its_output_and_a_button_counts(browser, lab):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page = open_notebook(browser, lab, "widgets.ipynb")
    run_all(page)
    wait_or_explain(page, "text=day 0: 270 K", 180_000)
    wait_or_explain(page, "button.widget-button", 60_000)
    handle = page.locator(".noUi-handle").first
    maps = [page.locator(".jp-Notebook img").first.screenshot()]
    before = page.locator(".jp-Notebook img").first.get_attribute("src")
    # In place: the most maps ever on the page at once, seen by the browser itself (the printed
    # line arrives before its map, so a count taken when the line shows can miss the map).
    page.evaluate("""() => {
        window.zkMostMaps = 0;
        const count = () => { window.zkMostMaps = Math.max(window.zkMostMaps,
            document.querySelectorAll('.jp-Notebook img').length); };
        new MutationObserver(count).observe(document.body, {childList: true, subtree: true});
    }""")
    for day, text in ((1, "day 1: 271 K"), (2, "day 2: 272 K"), (3, "Error: no data for day 3"), (4, "day 4: 274 K")):
        handle.focus()
        page.keyboard.press("ArrowRight")
        wait_or_explain(page, f"text={text}", 60_000)
        # Day 3 has no map; the others have one, a new one (not the day before's, still shown).
        page.wait_for_function("""([before, none]) => {
            const imgs = document.querySelectorAll('.jp-Notebook img');
            return none ? imgs.length === 0 : imgs.length === 1 && imgs[0].src !== before;
        }""", arg=[before, day == 3], timeout=60_000)
        if day != 3:
            maps.append(page.locator(".jp-Notebook img").first.screenshot())
            before = page.locator(".jp-Notebook img").first.get_attribute("src")
    assert page.evaluate("() => window.zkMostMaps") == 1, "never a second map under the slider"
    assert len(set(maps)) == len(maps), "each day's map differs from the one before"
    page.screenshot(path=f"{ARTIFACTS}/lab-widgets-slider.png")

    button = page.locator("button.widget-button", has_text="Add one")
    for n in (1, 2):
        button.click()
        wait_or_explain(page, f"text=clicked {n}", 60_000)
    assert page.locator(".zk-clicks").count() == 1
    page.screenshot(path=f"{ARTIFACTS}/lab-widgets-button.png")
    page.close()
