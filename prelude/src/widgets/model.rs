//! A widget model: its comm, its state as the browser sees it, and the callbacks that run when
//! the browser changes it; the registry of this process's widgets, which [`super::channel`]'s
//! messages are dispatched to.

use super::channel;
use crate::live::{in_kernel, marker, Bundle, Marker};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, TryLockError};
use zarr_kernel_protocol::comm::{Op, Request};

/// The ipywidgets protocol version this speaks (`jupyterlab_widgets` 3, ipywidgets 8).
const PROTOCOL_VERSION: &str = "2.1.0";
const CONTROLS: (&str, &str) = ("@jupyter-widgets/controls", "2.0.0");

type Handler = Arc<Mutex<dyn FnMut(&Map<String, Value>) + Send>>;

/// One widget model: its comm, its state as the browser sees it, and what runs when the
/// browser changes its `watched` key (or clicks it).
struct Model {
    id: String,
    /// Its text form's name ("IntSlider").
    kind: &'static str,
    watched: &'static str,
    state: Mutex<Map<String, Value>>,
    handlers: Mutex<Vec<Handler>>,
}

/// A widget (what every control holds): cheap to clone, shared with its callbacks.
#[derive(Clone)]
pub struct Widget(Arc<Model>);

impl std::fmt::Debug for Widget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.0.kind, self.0.id)
    }
}

/// The widgets of this process, by comm id (their callbacks run from [`channel`]). As in
/// ipywidgets, a widget lives until its comm closes, not until its last variable goes: a
/// cell's final `interact(…)` is dropped when the cell ends, and must still answer its slider.
fn registry() -> &'static Mutex<HashMap<String, Arc<Model>>> {
    static MODELS: OnceLock<Mutex<HashMap<String, Arc<Model>>>> = OnceLock::new();
    MODELS.get_or_init(Mutex::default)
}

impl Widget {
    /// A control of `@jupyter-widgets/controls` (`name` "IntSlider" gives its model and view).
    pub(super) fn control(name: &'static str, watched: &'static str, state: Value) -> Widget {
        let (module, version) = CONTROLS;
        let mut full = json!({
            "_model_module": module, "_model_module_version": version, "_model_name": format!("{name}Model"),
            "_view_module": module, "_view_module_version": version, "_view_name": format!("{name}View"),
            "_dom_classes": [], "description": "", "description_allow_html": false, "disabled": false,
            "tabbable": null, "tooltip": null,
        });
        merge(&mut full, state);
        Widget::open(name, watched, full)
    }

    /// Open the model's comm (in the kernel) and register it.
    pub(super) fn open(kind: &'static str, watched: &'static str, state: Value) -> Widget {
        let Value::Object(state) = state else { unreachable!("widget state is an object") };
        let id = format!("{:032x}", rand::random::<u128>());
        let model = Arc::new(Model { id, kind, watched, state: Mutex::new(state), handlers: Mutex::default() });
        registry().lock().unwrap().insert(model.id.clone(), model.clone());
        if in_kernel() {
            channel::start(dispatch);
            let state = Value::Object(model.state.lock().unwrap().clone());
            let open = Marker::CommOpen {
                comm_id: model.id.clone(),
                target_name: "jupyter.widget".into(),
                data: object(json!({"state": state, "buffer_paths": []})),
                metadata: object(json!({"version": PROTOCOL_VERSION})),
            };
            marker(open, false);
        }
        Widget(model)
    }

    /// Close it: the browser removes its views, and its callbacks are released.
    pub fn close(&self) {
        if registry().lock().unwrap().remove(&self.0.id).is_some() && in_kernel() {
            marker(Marker::CommClose { comm_id: self.0.id.clone() }, false);
        }
    }

    /// Its comm id (the model id JupyterLab knows it by).
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// One key of its state.
    pub(super) fn get(&self, key: &str) -> Value {
        self.0.state.lock().unwrap().get(key).cloned().unwrap_or(Value::Null)
    }

    /// Change its state here and in the browser; runs its handlers when `watched` changed.
    pub(super) fn set(&self, patch: Value) {
        let Value::Object(patch) = patch else { return };
        let fire = patch.contains_key(self.0.watched);
        self.0.state.lock().unwrap().extend(patch.clone());
        if in_kernel() {
            self.update(Value::Object(patch));
        }
        if fire {
            self.fire();
        }
    }

    /// Run `f` with its state each time `watched` changes (or it is clicked).
    pub(super) fn on_event(&self, f: impl FnMut(&Map<String, Value>) + Send + 'static) {
        self.0.handlers.lock().unwrap().push(Arc::new(Mutex::new(f)));
    }

    /// Run the handlers, in the order they were added. A handler that is already running (it
    /// changed its own widget) is not run again; one that panicked before runs as usual.
    pub(super) fn fire(&self) {
        let handlers = self.0.handlers.lock().unwrap().clone();
        let state = self.0.state.lock().unwrap().clone();
        for h in handlers {
            let mut run = match h.try_lock() {
                Ok(run) => run,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => continue,
            };
            (*run)(&state);
        }
    }

    /// A message from the browser: a state change, a request for the whole state, a click.
    pub(super) fn receive(&self, data: &Value) {
        match data["method"].as_str() {
            Some("update") => {
                let Some(state) = data["state"].as_object() else { return };
                let fire = state.contains_key(self.0.watched);
                self.0.state.lock().unwrap().extend(state.clone());
                if fire {
                    self.fire();
                }
            }
            Some("request_state") => {
                let state = Value::Object(self.0.state.lock().unwrap().clone());
                self.update(state);
            }
            Some("custom") if data["content"]["event"] == "click" => self.fire(),
            _ => {}
        }
    }

    /// Send `state` (all of it or a change) to the browser.
    fn update(&self, state: Value) {
        let data = object(json!({"method": "update", "state": state, "buffer_paths": []}));
        marker(Marker::CommMsg { comm_id: self.0.id.clone(), data }, false);
    }

    /// Its view in Jupyter, with a text form for consoles and files.
    pub(super) fn bundle(&self, text: String) -> Bundle {
        Bundle::text(text).with(
            "application/vnd.jupyter.widget-view+json",
            json!({"version_major": 2, "version_minor": 0, "model_id": self.0.id}),
        )
    }
}

/// `a` with the keys of `b` added or replaced (both objects).
fn merge(a: &mut Value, b: Value) {
    if let (Value::Object(a), Value::Object(b)) = (a, b) {
        a.extend(b);
    }
}

/// The widget with comm id `id`, if this process has it.
pub(super) fn find(id: &str) -> Option<Widget> {
    registry().lock().unwrap().get(id).cloned().map(Widget)
}

/// A message from the browser (see [`channel`]): `msg` for widget `id`, or its `close`.
fn dispatch(request: Request) {
    match request.op {
        Op::Msg => {
            if let Some(w) = find(&request.comm_id) {
                w.receive(&Value::Object(request.data));
            }
        }
        // The browser closed the comm: forget the widget (and its callbacks).
        Op::Close => drop(registry().lock().unwrap().remove(&request.comm_id)),
    }
}

/// A JSON object literal as a map (what markers carry).
fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_updates_change_state_and_run_handlers() {
        let w = Widget::control("IntSlider", "value", json!({"value": 1, "min": 0, "max": 9}));
        assert_eq!(w.get("_model_name"), "IntSliderModel");
        assert_eq!(w.get("_view_module_version"), "2.0.0");
        let seen = Arc::new(Mutex::new(vec![]));
        let s = seen.clone();
        w.on_event(move |state| s.lock().unwrap().push(state["value"].as_i64().unwrap()));
        w.receive(&json!({"method": "update", "state": {"value": 4}, "buffer_paths": []}));
        // A change of another key runs nothing; a kernel-side change of the value does.
        w.receive(&json!({"method": "update", "state": {"max": 20}}));
        w.set(json!({"value": 7}));
        assert_eq!(*seen.lock().unwrap(), vec![4, 7]);
        assert_eq!(w.get("max"), 20);
        assert!(find(w.id()).is_some());
        let id = w.id().to_string();
        drop(w);
        assert!(find(&id).is_some(), "a widget outlives its variables");
        find(&id).unwrap().close();
        assert!(find(&id).is_none(), "a closed widget leaves the registry");
        let w = Widget::control("IntSlider", "value", json!({"value": 0}));
        let request = |seq, op, data: Value| Request { seq, op, comm_id: w.id().to_string(), data: object(data) };
        dispatch(request(1, Op::Msg, json!({"method": "update", "state": {"value": 5}})));
        assert_eq!(w.get("value"), 5);
        dispatch(request(2, Op::Close, json!({})));
        assert!(find(w.id()).is_none(), "the browser closed it");
    }

    #[test]
    fn clicks_run_handlers_and_views_name_the_model() {
        let w = Widget::control("Button", "", json!({"description": "Run"}));
        let n = Arc::new(Mutex::new(0));
        let c = n.clone();
        w.on_event(move |_| *c.lock().unwrap() += 1);
        w.receive(&json!({"method": "custom", "content": {"event": "click"}}));
        w.receive(&json!({"method": "custom", "content": {"event": "hover"}}));
        assert_eq!(*n.lock().unwrap(), 1);
        let b = w.bundle("Button".into());
        assert_eq!(b.get("application/vnd.jupyter.widget-view+json").unwrap()["model_id"], w.id());
    }
}
