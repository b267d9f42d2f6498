"""Widgets through the Jupyter comm protocol, as JupyterLab's widget manager speaks it
(ipywidgets 8, protocol 2.1.0): the kernel opens a comm per widget, the frontend's comm messages
run the Rust callbacks in the kernel's process (between cells, never during one), an Output
widget shows what a callback displays (its `msg_id` is the comm message's), and a failing
callback shows its error there and leaves the widget working.

Runs on a local directory store: no S3 server needed."""

import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "kernel"))
sys.path.insert(0, os.path.dirname(__file__))
from jupyter_driver import Session  # noqa: E402
from wire import execute  # noqa: E402

KERNEL = "rust-zarr"
VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def kc():
    with Session(KERNEL) as s:
        yield s.kc


def send(kc, msg_type, content, timeout=120):
    """Send a shell message that has no reply (a comm message); its iopub messages up to idle."""
    msg = kc.session.msg(msg_type, content)
    kc.shell_channel.send(msg)
    return until_idle(kc, msg["header"]["msg_id"], timeout)


def until_idle(kc, msg_id, timeout=120):
    got, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = kc.get_iopub_msg(timeout=deadline - time.monotonic())
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "status":
            if m["content"]["execution_state"] == "idle":
                return got
            continue
        got.append(m)
    raise TimeoutError(f"no idle for {msg_id}")


def update(kc, comm_id, **state):
    return send(kc, "comm_msg", {"comm_id": comm_id, "data": {"method": "update", "state": state,
                                                              "buffer_paths": []}})


def run(kc, code):
    ex = execute(kc, code, timeout=300)
    assert ex.status == "ok", [m["content"] for m in ex.outputs("error", "stream")]
    return ex


def opened(ex):
    """{comm_id: state} of the comms a cell opened, with the updates it sent applied."""
    state = {}
    for m in ex.iopub:
        c = m["content"]
        if m["msg_type"] == "comm_open":
            assert c["target_name"] == "jupyter.widget" and m["metadata"] == {"version": "2.1.0"}, m
            state[c["comm_id"]] = dict(c["data"]["state"])
        elif m["msg_type"] == "comm_msg" and c["comm_id"] in state:
            state[c["comm_id"]].update(c["data"]["state"])
    return state


def shown(messages):
    """The text forms displayed, in order."""
    return [m["content"]["data"]["text/plain"] for m in messages if m["msg_type"] == "display_data"]


def stdout(messages):
    return "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")


def test_a_slider_is_a_widget_and_its_callback_runs_on_each_move(kc):
    ex = run(kc, 'let s = IntSlider::new(0, 9).description("time");\n'
                 'let moved = std::sync::Arc::new(std::sync::Mutex::new(vec![]));\n'
                 'let m = moved.clone();\n'
                 's.on_change(move |v| { println!("moved to {v}"); m.lock().unwrap().push(v); });\n'
                 's')
    (comm_id, state), = opened(ex).items()
    assert state["_model_name"] == "IntSliderModel" and state["_model_module"] == "@jupyter-widgets/controls", state
    assert (state["value"], state["min"], state["max"], state["description"]) == (0, 0, 9, "time"), state
    view = ex.outputs("execute_result")[0]["content"]["data"]
    assert view[VIEW] == {"version_major": 2, "version_minor": 0, "model_id": comm_id}, view
    assert view["text/plain"] == "IntSlider(value=0, min=0, max=9)"

    info = kc.comm_info(target_name="jupyter.widget")
    reply = kc.get_shell_msg(timeout=60)
    assert reply["parent_header"]["msg_id"] == info and comm_id in reply["content"]["comms"], reply

    for v in (5, 7):
        assert stdout(update(kc, comm_id, value=v)) == f"moved to {v}\n"
    r = run(kc, 'format!("{:?} {}", moved.lock().unwrap(), s.value())')
    assert r.outputs("execute_result")[0]["content"]["data"]["text/plain"] == '"[5, 7] 7"'


def test_interact_fills_its_output_now_and_after_each_move(kc):
    ex = run(kc, 'let i = interact(IntSlider::new(0, 3), |t| match t {\n'
                 '    2 => Err(Error::new(ErrorKind::InvalidInput, "no data at 2")),\n'
                 '    3 => panic!("three"),\n'
                 '    _ => Ok(format!("t={t}")),\n'
                 '});\ni')
    comms = opened(ex)
    output = next(i for i, s in comms.items() if s["_model_name"] == "OutputModel")
    slider = next(i for i, s in comms.items() if s["_model_name"] == "IntSliderModel")
    box = next(i for i, s in comms.items() if s["_model_name"] == "VBoxModel")
    assert comms[box]["children"] == [f"IPY_MODEL_{slider}", f"IPY_MODEL_{output}"]
    assert ex.outputs("execute_result")[0]["content"]["data"][VIEW]["model_id"] == box
    # The first value's result went to the output: captured under the cell's own message.
    captures = [m["content"]["data"]["state"]["msg_id"] for m in ex.outputs("comm_msg")
                if m["content"]["comm_id"] == output]
    assert captures == [ex.msg_id, ""], captures
    assert shown(ex.iopub) == ["t=0"]

    for value, want in ((1, "t=1"), (2, "Error: no data at 2"), (3, "Error: panicked: three"), (0, "t=0")):
        got = update(kc, slider, value=value)
        kinds = [m["msg_type"] for m in got]
        assert kinds[:2] == ["comm_msg", "clear_output"] and kinds[-1] == "comm_msg", kinds
        msg_id = got[0]["parent_header"]["msg_id"]
        assert got[0]["content"]["data"]["state"] == {"msg_id": msg_id}, got[0]
        assert got[-1]["content"]["data"]["state"] == {"msg_id": ""}, got[-1]
        assert shown(got) == [want], (value, shown(got))
    # The callback's panic is not the next cell's.
    assert run(kc, "1 + 1").outputs("execute_result")[0]["content"]["data"]["text/plain"] == "2"


def test_a_moved_variable_keeps_the_final_value_rich(kc):
    """Notebook 05's slider cell: the callback takes a variable of the same cell. rustc's E0382 on
    storing it used to make evcxr fall back to Debug text (evcxr patch 15)."""
    ex = run(kc, 'let label = String::from("day");\n'
                 'interact(IntSlider::new(0, 3), move |d| Ok(format!("{label} {d}")))')
    data = ex.outputs("execute_result")[0]["content"]["data"]
    assert VIEW in data and data["text/plain"].startswith("interact(IntSlider("), data
    assert shown(ex.iopub) == ["day 0"]
    data = run(kc, 'let s = String::from("<b>bold</b>");\nHtml(s)').outputs("execute_result")[0]["content"]["data"]
    assert data.get("text/html") == "<b>bold</b>", data
    # The moved variable is gone, as before.
    assert execute(kc, "label.len()", timeout=300).status == "error"


def test_buttons_dropdowns_and_the_state_a_reloaded_page_asks_for(kc):
    ex = run(kc, 'let b = Button::new("Go");\nlet d = Dropdown::new(&["t2m", "u10"]);\n'
                 'b.on_click(|| println!("clicked"));\nd.on_change(|x| println!("chose {x}"));\n'
                 'display(&b);\ndisplay(&d);')
    comms = opened(ex)
    button = next(i for i, s in comms.items() if s["_model_name"] == "ButtonModel")
    drop = next(i for i, s in comms.items() if s["_model_name"] == "DropdownModel")
    assert comms[drop]["_options_labels"] == ["t2m", "u10"] and comms[drop]["index"] == 0
    assert [m["content"]["data"][VIEW]["model_id"] for m in ex.outputs("display_data")] == [button, drop]

    click = {"comm_id": button, "data": {"method": "custom", "content": {"event": "click"}}}
    assert stdout(send(kc, "comm_msg", click)) == "clicked\n"
    assert stdout(update(kc, drop, index=1)) == "chose u10\n"
    got = send(kc, "comm_msg", {"comm_id": drop, "data": {"method": "request_state"}})
    state = [m["content"]["data"] for m in got if m["msg_type"] == "comm_msg"]
    assert state and state[0]["method"] == "update" and state[0]["state"]["index"] == 1, got


def test_callbacks_and_cells_take_turns(kc):
    ex = run(kc, 'let slow = IntSlider::new(0, 9);\n'
                 'slow.on_change(|v| { std::thread::sleep(std::time::Duration::from_millis(800)); '
                 'println!("slow {v} done"); });\nslow')
    (comm_id, _), = opened(ex).items()
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"method": "update", "state": {"value": 1}}})
    kc.shell_channel.send(msg)
    cell = kc.execute('println!("cell ran");', allow_stdin=False)
    order, deadline = [], time.monotonic() + 120
    while len(order) < 2 and time.monotonic() < deadline:
        m = kc.get_iopub_msg(timeout=60)
        if m["msg_type"] == "stream":
            order.append(m["content"]["text"])
            assert m["parent_header"]["msg_id"] == (msg["header"]["msg_id"] if len(order) == 1 else cell)
    assert order == ["slow 1 done\n", "cell ran\n"], order


def test_an_interrupt_stops_a_callback_and_closed_comms_are_gone(kc):
    ex = run(kc, 'let w = IntSlider::new(0, 9);\n'
                 'w.on_change(|_| { while !interrupted() { std::thread::sleep(std::time::Duration::from_millis(10)); } '
                 'println!("stopped"); });\nw')
    (comm_id, _), = opened(ex).items()
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"method": "update", "state": {"value": 3}}})
    kc.shell_channel.send(msg)
    time.sleep(1)
    kc.control_channel.send(kc.session.msg("interrupt_request", {}))
    assert stdout(until_idle(kc, msg["header"]["msg_id"])) == "stopped\n"
    assert run(kc, "w.value()").outputs("execute_result")[0]["content"]["data"]["text/plain"] == "3"

    send(kc, "comm_close", {"comm_id": comm_id, "data": {}})
    kc.comm_info()
    assert comm_id not in kc.get_shell_msg(timeout=60)["content"]["comms"]
    assert send(kc, "comm_msg", {"comm_id": comm_id, "data": {"method": "update", "state": {"value": 4}}}) == []

    # A comm the frontend opens (ipywidgets' control comm) is closed at once: it falls back to
    # asking each widget for its state.
    got = send(kc, "comm_open", {"comm_id": "ctl-1", "target_name": "jupyter.widget.control", "data": {}})
    assert [(m["msg_type"], m["content"]["comm_id"]) for m in got] == [("comm_close", "ctl-1")], got
