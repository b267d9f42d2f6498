//! `interact`: a control, and an output area below it that a function of the control's value
//! fills, now and on each change (ipywidgets' `interact`).

use super::controls::{Dropdown, FloatSlider, IntSlider, Output};
use super::model::Widget;
use crate::error::{panic_text, Result};
use crate::live::{clear_output, display, Bundle, Rich};
use crate::text::esc;
use serde_json::json;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

/// A control with a value a function can take: [`IntSlider`], [`FloatSlider`], [`Dropdown`].
pub trait Control: Rich + Clone + Send + 'static {
    /// Its value's type (`i64`, `f64`, `String`).
    type Value: Send + 'static;
    /// Its value now.
    fn current(&self) -> Self::Value;
    /// Run `f` with each new value.
    fn changed(&self, f: impl FnMut(Self::Value) + Send + 'static);
    /// Its widget.
    fn model(&self) -> &Widget;
}

macro_rules! control {
    ($t:ty, $v:ty) => {
        impl Control for $t {
            type Value = $v;
            fn current(&self) -> $v {
                self.value()
            }
            fn changed(&self, f: impl FnMut($v) + Send + 'static) {
                self.on_change(f)
            }
            fn model(&self) -> &Widget {
                self.widget()
            }
        }
    };
}
control!(IntSlider, i64);
control!(FloatSlider, f64);
control!(Dropdown, String);

/// A control with the output that follows it: what [`interact`] returns and shows.
#[derive(Clone, Debug)]
pub struct Interact<C> {
    control: C,
    output: Output,
    layout: Widget,
}

impl<C: Control> Interact<C> {
    /// The control (to read or move it from code).
    pub fn control(&self) -> &C {
        &self.control
    }
    /// The output area.
    pub fn output(&self) -> &Output {
        &self.output
    }
}

impl<C: Control> Rich for Interact<C> {
    fn bundle(&self) -> Bundle {
        let control = self.control.bundle();
        self.layout.bundle(format!("interact({})\n{}", control.plain(), self.output.bundle().plain()))
    }
}

/// Show `control` with an output area below it, filled with what `f` returns for the control's
/// value: now, and each time the control changes, in place (ipywidgets' `interact`). An error
/// or panic of `f` shows in that area as one line; the widget keeps working.
///
/// `interact(IntSlider::new(0, 11).description("month"), move |m| t2m.isel("time", m as u64)?.plot())`
pub fn interact<C, R, F>(control: C, f: F) -> Interact<C>
where
    C: Control,
    R: Rich,
    F: FnMut(C::Value) -> Result<R> + Send + 'static,
{
    let output = Output::new();
    let children = [control.model().id(), output.widget().id()].map(|id| format!("IPY_MODEL_{id}"));
    let layout = Widget::control("VBox", "", json!({"children": children, "box_style": ""}));
    let f = Arc::new(Mutex::new(f));
    let run = {
        let output = output.clone();
        move |v: C::Value| {
            let mut f = f.lock().unwrap_or_else(|p| p.into_inner());
            output.capture(|| {
                clear_output(true);
                let shown = match catch_unwind(AssertUnwindSafe(|| (*f)(v))) {
                    Ok(Ok(x)) => x.bundle(),
                    Ok(Err(e)) => failure(&e.to_string()),
                    Err(p) => failure(&format!("panicked: {}", panic_text(&*p).unwrap_or_default())),
                };
                display(&shown);
            });
        }
    };
    (run.clone())(control.current());
    control.changed(run);
    Interact { control, output, layout }
}

/// An error of the function, as one line.
fn failure(line: &str) -> Bundle {
    Bundle::text(format!("Error: {line}"))
        .html(format!("<pre style=\"color:#b00020;white-space:pre-wrap;margin:0\">Error: {}</pre>", esc(line)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};

    #[test]
    fn the_function_runs_now_and_on_each_change() {
        let seen = Arc::new(Mutex::new(vec![]));
        let s = seen.clone();
        let i = interact(IntSlider::new(0, 9).value_at(2), move |t| {
            s.lock().unwrap().push(t);
            if t == 5 {
                return Err(Error::new(ErrorKind::InvalidInput, "no data at 5"));
            }
            if t == 6 {
                panic!("six");
            }
            Ok(format!("t={t}"))
        });
        i.control().set_value(5);
        i.control().set_value(6);
        i.control().set_value(7);
        assert_eq!(*seen.lock().unwrap(), vec![2, 5, 6, 7], "errors and panics leave it working");
        assert!(i.bundle().plain().starts_with("interact(IntSlider(value=7"), "{}", i.bundle().plain());
        let layout = i.bundle();
        let id = layout.get("application/vnd.jupyter.widget-view+json").unwrap()["model_id"].as_str().unwrap();
        let vbox = crate::widgets::model::find(id).unwrap();
        assert_eq!(vbox.get("children")[1], format!("IPY_MODEL_{}", i.output().widget().id()));
    }

    #[test]
    fn dropdowns_give_their_label() {
        let seen = Arc::new(Mutex::new(vec![]));
        let s = seen.clone();
        let d = Dropdown::new(&["t2m", "u10"]);
        let i = interact(d, move |name| {
            s.lock().unwrap().push(name.clone());
            Ok(name)
        });
        i.control().set_value("u10");
        i.control().set_value("nope");
        assert_eq!(*seen.lock().unwrap(), vec!["t2m".to_string(), "u10".to_string()]);
        assert!(failure("a<b").get("text/html").unwrap().as_str().unwrap().contains("a&lt;b"));
    }
}
