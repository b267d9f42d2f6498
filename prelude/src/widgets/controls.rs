//! The controls, named and configured as in ipywidgets: `IntSlider`, `FloatSlider`,
//! `Dropdown`, `Button`, and the `Output` area that callbacks show their results in.

use super::model::Widget;
use crate::live::{clear_output, in_kernel, marker, Bundle, Marker, Rich};
use serde_json::{json, Value};

/// A slider over whole numbers (ipywidgets' `IntSlider`): `IntSlider::new(0, 23).description("hour")`.
#[derive(Clone, Debug)]
pub struct IntSlider(Widget);

/// A slider over real numbers (ipywidgets' `FloatSlider`).
#[derive(Clone, Debug)]
pub struct FloatSlider(Widget);

/// A choice among labels (ipywidgets' `Dropdown`): `Dropdown::new(&["t2m", "u10"])`.
#[derive(Clone, Debug)]
pub struct Dropdown(Widget);

/// A button that runs its `on_click` callbacks (ipywidgets' `Button`).
#[derive(Clone, Debug)]
pub struct Button(Widget);

/// An output area (ipywidgets' `Output`): what runs inside [`Output::capture`] shows there, in a
/// cell or in a callback.
#[derive(Clone, Debug)]
pub struct Output(Widget);

/// Builder steps and callbacks shared by the controls.
macro_rules! common {
    ($t:ident) => {
        impl $t {
            /// The label beside it.
            pub fn description(self, text: &str) -> Self {
                self.0.set(json!({ "description": text }));
                self
            }
            /// Greyed out, or usable again.
            pub fn disabled(self, yes: bool) -> Self {
                self.0.set(json!({ "disabled": yes }));
                self
            }
            /// Its widget (comm id, `close`).
            pub fn widget(&self) -> &Widget {
                &self.0
            }
        }
        impl Rich for $t {
            fn bundle(&self) -> Bundle {
                self.0.bundle(self.text())
            }
        }
    };
}

/// `value`, `set_value` and `on_change` of a slider, with its value type.
macro_rules! slider {
    ($t:ident, $v:ty, $get:ident, $name:literal) => {
        common!($t);
        impl $t {
            /// Its value (as the browser last set it).
            pub fn value(&self) -> $v {
                self.0.get("value").$get().unwrap_or_default()
            }
            /// Move it (in the browser too); runs the `on_change` callbacks.
            pub fn set_value(&self, v: $v) {
                self.0.set(json!({ "value": v }));
            }
            /// Start at `v` (builder step: no callback is attached yet).
            pub fn value_at(self, v: $v) -> Self {
                self.0.set(json!({ "value": v }));
                self
            }
            /// The distance between positions.
            pub fn step(self, step: $v) -> Self {
                self.0.set(json!({ "step": step }));
                self
            }
            /// Run callbacks while it is dragged, not only when it is let go (ipywidgets'
            /// default; off here, since a Rust callback that draws a map takes longer than a drag).
            pub fn continuous_update(self, yes: bool) -> Self {
                self.0.set(json!({ "continuous_update": yes }));
                self
            }
            /// Run `f` with the new value each time it moves.
            pub fn on_change(&self, mut f: impl FnMut($v) + Send + 'static) {
                self.0.on_event(move |s| f(s["value"].$get().unwrap_or_default()));
            }
            fn text(&self) -> String {
                format!("{}(value={}, min={}, max={})", $name, self.0.get("value"), self.0.get("min"), self.0.get("max"))
            }
        }
    };
}

slider!(IntSlider, i64, as_i64, "IntSlider");
slider!(FloatSlider, f64, as_f64, "FloatSlider");

impl IntSlider {
    /// From `min` to `max` (both included), at `min`, in steps of 1.
    pub fn new(min: i64, max: i64) -> IntSlider {
        IntSlider(Widget::control(
            "IntSlider",
            "value",
            json!({"value": min, "min": min, "max": max.max(min), "step": 1, "orientation": "horizontal",
                   "readout": true, "readout_format": "d", "continuous_update": false, "behavior": "drag-tap"}),
        ))
    }
}

impl FloatSlider {
    /// From `min` to `max`, at `min`, in steps of a hundredth of the range.
    pub fn new(min: f64, max: f64) -> FloatSlider {
        let max = max.max(min);
        let step = if max > min { (max - min) / 100.0 } else { 1.0 };
        FloatSlider(Widget::control(
            "FloatSlider",
            "value",
            json!({"value": min, "min": min, "max": max, "step": step, "orientation": "horizontal",
                   "readout": true, "readout_format": ".3g", "continuous_update": false, "behavior": "drag-tap"}),
        ))
    }
}

common!(Dropdown);

impl Dropdown {
    /// A choice among `options`, the first chosen.
    pub fn new<S: AsRef<str>>(options: &[S]) -> Dropdown {
        let labels: Vec<&str> = options.iter().map(AsRef::as_ref).collect();
        let index = if labels.is_empty() { Value::Null } else { json!(0) };
        Dropdown(Widget::control("Dropdown", "index", json!({"_options_labels": labels, "index": index})))
    }

    /// The chosen label ("" when there are no options).
    pub fn value(&self) -> String {
        label(&self.0.get("_options_labels"), &self.0.get("index"))
    }

    /// Choose `label` (in the browser too; runs the `on_change` callbacks); an unknown label
    /// changes nothing.
    pub fn set_value(&self, label: &str) {
        let labels = self.0.get("_options_labels");
        if let Some(i) = labels.as_array().and_then(|l| l.iter().position(|x| x == label)) {
            self.0.set(json!({ "index": i }));
        }
    }

    /// Run `f` with the chosen label each time the choice changes.
    pub fn on_change(&self, mut f: impl FnMut(String) + Send + 'static) {
        self.0.on_event(move |s| f(label(&s["_options_labels"], &s["index"])));
    }

    fn text(&self) -> String {
        format!("Dropdown(value={:?}, options={})", self.value(), self.0.get("_options_labels"))
    }
}

fn label(labels: &Value, index: &Value) -> String {
    index.as_u64().and_then(|i| labels.get(i as usize)).and_then(Value::as_str).unwrap_or_default().to_string()
}

common!(Button);

impl Button {
    /// A button labelled `text`.
    pub fn new(text: &str) -> Button {
        Button(Widget::control(
            "Button",
            "",
            json!({"description": text, "button_style": "", "icon": "", "tooltip": null}),
        ))
    }

    /// Run `f` on each click.
    pub fn on_click(&self, mut f: impl FnMut() + Send + 'static) {
        self.0.on_event(move |_| f());
    }

    /// Click it from code (runs the `on_click` callbacks).
    pub fn click(&self) {
        self.0.fire();
    }

    fn text(&self) -> String {
        format!("Button(description={})", self.0.get("description"))
    }
}

impl Default for Output {
    fn default() -> Self {
        Output::new()
    }
}

impl Output {
    /// An empty output area.
    pub fn new() -> Output {
        Output(Widget::open(
            "Output",
            "",
            json!({"_model_module": "@jupyter-widgets/output", "_model_module_version": "1.0.0",
                   "_model_name": "OutputModel", "_view_module": "@jupyter-widgets/output",
                   "_view_module_version": "1.0.0", "_view_name": "OutputView", "_dom_classes": [],
                   "msg_id": "", "outputs": [], "tabbable": null, "tooltip": null}),
        ))
    }

    /// Run `f` with what it prints and displays shown in this area (ipywidgets' `with out:`).
    pub fn capture<R>(&self, f: impl FnOnce() -> R) -> R {
        if !in_kernel() {
            return f();
        }
        marker(Marker::Capture { comm_id: self.0.id().to_string() }, false);
        let r = f();
        marker(Marker::Release { comm_id: self.0.id().to_string() }, false);
        r
    }

    /// Show `x` here, in place of what was there.
    pub fn show(&self, x: &(impl Rich + ?Sized)) {
        self.capture(|| {
            clear_output(true);
            crate::live::display(x);
        });
    }

    /// Empty it.
    pub fn clear(&self) {
        self.capture(|| clear_output(false));
    }

    /// Its widget (comm id, `close`).
    pub fn widget(&self) -> &Widget {
        &self.0
    }
}

impl Rich for Output {
    fn bundle(&self) -> Bundle {
        self.0.bundle("Output()".into())
    }
}
