//! Output at any point of a cell: `display(x)`, `handle.update(x)`, `clear_output(wait)`, `page(x)`.
//!
//! The "Rust (Zarr)" kernel turns one-line markers on the cell's stdout into Jupyter's
//! `display_data`, `update_display_data` and `clear_output` as they are printed (the protocol is
//! the `zarr-kernel-protocol` crate's `marker`, shared with the kernel). Under another kernel (plain evcxr) or outside
//! Jupyter, `display` and `update` print the value's text form and `clear_output` does nothing.
//!
//! ```no_run
//! use zarr_prelude::prelude::*;
//! let status = display(&Html("<b>starting</b>".into()));
//! // … work …
//! status.update("done");
//! ```

use serde_json::{Map, Value};
pub(crate) use zarr_kernel_protocol::marker::Marker;
use zarr_kernel_protocol::DISPLAY_ENV;

/// What Jupyter shows of a value: one entry per mime type (`text/plain` always, richer forms
/// such as `text/html` or `image/png` when the value has them). Like IPython's mime bundles.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bundle(Map<String, Value>);

impl Bundle {
    /// A bundle with just the text form.
    pub fn text(plain: impl Into<String>) -> Bundle {
        Bundle::default().with("text/plain", plain.into())
    }
    /// Add (or replace) the HTML form.
    pub fn html(self, html: impl Into<String>) -> Bundle {
        self.with("text/html", html.into())
    }
    /// Add (or replace) any form: strings for text and base64 images, JSON for `*json` types.
    pub fn with(mut self, mime: &str, value: impl Into<Value>) -> Bundle {
        self.0.insert(mime.to_string(), value.into());
        self
    }
    /// The text form ("" if none).
    pub fn plain(&self) -> &str {
        self.0.get("text/plain").and_then(Value::as_str).unwrap_or("")
    }
    /// One form, if present.
    pub fn get(&self, mime: &str) -> Option<&Value> {
        self.0.get(mime)
    }
    /// Its forms, as a marker carries them.
    pub(crate) fn to_map(&self) -> Map<String, Value> {
        self.0.clone()
    }
}

/// Anything with a rich form: arrays, listings, figures, stats, text, [`Html`], [`Bundle`].
pub trait Rich {
    /// The forms Jupyter may show.
    fn bundle(&self) -> Bundle;
}

/// HTML to show as such (`display(&Html(...))`).
#[derive(Clone, Debug, PartialEq)]
pub struct Html(pub String);

impl Rich for Html {
    fn bundle(&self) -> Bundle {
        // The text form strips nothing: consoles see the markup, which is honest.
        Bundle::text(self.0.clone()).html(self.0.clone())
    }
}
impl Rich for Bundle {
    fn bundle(&self) -> Bundle {
        self.clone()
    }
}
impl Rich for str {
    fn bundle(&self) -> Bundle {
        Bundle::text(self)
    }
}
impl Rich for String {
    fn bundle(&self) -> Bundle {
        Bundle::text(self.clone())
    }
}

/// ndarray's own text form (long axes elided), as evcxr shows a cell's final array.
impl<A, S, D> Rich for ndarray::ArrayBase<S, D>
where
    A: std::fmt::Display,
    S: ndarray::Data<Elem = A>,
    D: ndarray::Dimension,
{
    fn bundle(&self) -> Bundle {
        let text = format!("{self:.6}");
        let html = format!("<pre>{}</pre>", crate::text::esc(&text));
        Bundle::text(text).html(html)
    }
}

/// The thread that runs widgets' callbacks (`widgets`): its panics are caught and shown in the
/// widget's output, so the panic hook stays quiet on it.
pub(crate) const WIDGETS_THREAD: &str = "zarr-prelude-widgets";

/// True when the kernel in charge understands display markers.
pub(crate) fn in_kernel() -> bool {
    std::env::var_os(DISPLAY_ENV).is_some()
}

/// Enter the notebook's directory (`ZK_NOTEBOOK_DIR`, where Jupyter started the kernel):
/// evcxr builds in the kernel's own work directory, but a notebook's relative paths
/// (`open_array("data.zarr")`, a script beside it) mean the notebook's directory.
pub(crate) fn enter_notebook_dir() {
    if let Some(dir) = std::env::var_os("ZK_NOTEBOOK_DIR").filter(|_| in_kernel()) {
        let _ = std::env::set_current_dir(dir);
    }
}

/// Print one marker line. stdout keeps it in order with the cell's prints; stderr is read by
/// the kernel even between cells (updates from threads that outlive their cell).
pub(crate) fn marker(msg: Marker, stderr: bool) {
    let line = msg.line();
    if stderr {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

/// A new display id, unique across cells and kernels.
pub(crate) fn new_display_id() -> String {
    format!("zk-{:016x}", rand::random::<u64>())
}

/// Show `x` now, below the cell, and get a handle to replace it later.
pub fn display(x: &(impl Rich + ?Sized)) -> DisplayHandle {
    let h = DisplayHandle { id: new_display_id(), stderr: false };
    h.show(&x.bundle(), None);
    h
}

/// Show `x` in Jupyter's pager (the panel IPython's `?` opens beside the notebook), for long
/// text such as an array's full metadata; outside Jupyter, print it.
pub fn page(x: &(impl Rich + ?Sized)) {
    if !in_kernel() {
        println!("{}", x.bundle().plain());
        return;
    }
    marker(Marker::Page { data: x.bundle().to_map() }, false);
}

/// Clear the cell's output; with `wait`, only when the next output arrives (no flicker).
pub fn clear_output(wait: bool) {
    if in_kernel() {
        marker(Marker::Clear { wait }, false);
    }
}

/// Ask for a line of text, like Python's `input()`: in Jupyter a text box under the cell (the
/// cell waits for it); elsewhere the prompt on stdout and a line from stdin. "" when the
/// frontend cannot ask (nbclient, `allow_stdin=False`).
pub fn input(prompt: &str) -> String {
    ask(prompt, false)
}

/// [`input`] for secrets: the box hides what is typed, and nothing is echoed into the notebook.
/// `S3FileSystem::builder().key(id, &input_password("secret key")).build()?`
pub fn input_password(prompt: &str) -> String {
    ask(prompt, true)
}

/// The prefix of a line for the engine (evcxr's input request, a cell's value): the kernel's
/// engine gives the process that runs cells a random one (`EVCXR_CONTROL`), so that nothing a
/// cell prints can pass for such a line. Empty under an engine without it (upstream evcxr).
fn engine_prefix() -> String {
    std::env::var("EVCXR_CONTROL").unwrap_or_default()
}

fn ask(prompt: &str, password: bool) -> String {
    use std::io::Write;
    // evcxr sets this in the process that runs cells; its input protocol works only there:
    // one line asks, and the frontend's answer comes back on stdin.
    if std::env::var_os("EVCXR_IS_RUNTIME").is_some() {
        let kind = if password { "EVCXR_INPUT_REQUEST_PASSWORD" } else { "EVCXR_INPUT_REQUEST" };
        let prompt = prompt.replace(['\n', '\r'], " ");
        println!("{}{kind}:{prompt}", engine_prefix());
    } else {
        print!("{prompt}");
    }
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    line.trim_end_matches(['\r', '\n']).to_string()
}

/// One output of a cell that can be replaced in place ([`display`] returns it).
#[derive(Clone, Debug, PartialEq)]
pub struct DisplayHandle {
    id: String,
    stderr: bool,
}

impl DisplayHandle {
    /// A handle for an output not shown yet (see [`DisplayHandle::show`]).
    pub(crate) fn new(id: String) -> DisplayHandle {
        DisplayHandle { id, stderr: false }
    }

    /// Replace what this output shows with `x`.
    pub fn update(&self, x: &(impl Rich + ?Sized)) {
        self.replace(&x.bundle(), None);
    }

    /// Its Jupyter display id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A handle for a thread that keeps updating after its cell has finished: its updates
    /// travel on stderr, which the kernel reads at any time (stdout is read only while a cell
    /// runs, so updates there would wait for the next cell).
    pub fn for_background(&self) -> DisplayHandle {
        DisplayHandle { id: self.id.clone(), stderr: true }
    }

    /// `display_data` with this id; `on_interrupt` is what the kernel shows instead if the cell
    /// is stopped before a later call without it.
    pub(crate) fn show(&self, b: &Bundle, on_interrupt: Option<&Bundle>) {
        self.send(false, b, on_interrupt);
    }

    pub(crate) fn replace(&self, b: &Bundle, on_interrupt: Option<&Bundle>) {
        self.send(true, b, on_interrupt);
    }

    fn send(&self, update: bool, b: &Bundle, on_interrupt: Option<&Bundle>) {
        if !in_kernel() {
            println!("{}", b.plain());
            return;
        }
        let (data, metadata, on_interrupt) = (b.to_map(), Map::new(), on_interrupt.map(Bundle::to_map));
        let msg = if update {
            Marker::Update { data, metadata, display_id: self.id.clone(), on_interrupt }
        } else {
            Marker::Display { data, metadata, display_id: Some(self.id.clone()), on_interrupt }
        };
        marker(msg, self.stderr);
    }
}

/// The cell's final value as evcxr shows it (`evcxr_display`): one block per mime type.
pub(crate) fn emit_result(b: &Bundle) {
    for (mime, v) in &b.0 {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let p = engine_prefix();
        println!("{p}EVCXR_BEGIN_CONTENT {mime}\n{text}\n{p}EVCXR_END_CONTENT");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bundles_keep_every_form() {
        let b = Bundle::text("a").html("<b>a</b>").with("application/json", json!({"x": 1}));
        assert_eq!(b.plain(), "a");
        assert_eq!(b.get("text/html"), Some(&json!("<b>a</b>")));
        assert_eq!(b.to_map()["application/json"]["x"], 1);
        assert_eq!("x".bundle(), Bundle::text("x"));
        assert_eq!(Html("<i>h</i>".into()).bundle().get("text/html"), Some(&json!("<i>h</i>")));
        let a = ndarray::array![[1.0f32, 2.5], [3.0, 4.0]];
        assert_eq!(a.bundle().plain(), "[[1.000000, 2.500000],\n [3.000000, 4.000000]]");
    }

    #[test]
    fn display_ids_differ() {
        assert_ne!(new_display_id(), new_display_id());
        let h = DisplayHandle { id: "zk-1".into(), stderr: false };
        assert!(h.for_background().stderr && h.for_background().id() == "zk-1");
    }
}
