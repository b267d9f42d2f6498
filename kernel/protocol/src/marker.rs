//! The display marker protocol: how code running in a cell asks for Jupyter display messages.
//!
//! A cell's process cannot reach the kernel's sockets; it only has stdout and stderr, which the
//! engine hands us line by line. So a display request is one line of either stream:
//!
//! ```text
//! ZARR_KERNEL_DISPLAY {"op":"display","data":{"text/plain":"…","text/html":"…"},"display_id":"p1"}
//! ZARR_KERNEL_DISPLAY {"op":"update","display_id":"p1","data":{…},"on_interrupt":{…}}
//! ZARR_KERNEL_DISPLAY {"op":"clear","wait":true}
//! ZARR_KERNEL_DISPLAY {"op":"page","data":{"text/plain":"…"}}
//! ZARR_KERNEL_DISPLAY {"op":"error","ename":"panic","evalue":"boom","file":"src/lib.rs","line":9,"column":5,"backtrace":[]}
//! ZARR_KERNEL_DISPLAY {"op":"comm_open","comm_id":"c1","target_name":"jupyter.widget","data":{…},"metadata":{…}}
//! ZARR_KERNEL_DISPLAY {"op":"comm_msg","comm_id":"c1","data":{…}}
//! ZARR_KERNEL_DISPLAY {"op":"comm_close","comm_id":"c1"}
//! ZARR_KERNEL_DISPLAY {"op":"capture","comm_id":"c2"}  (then "release")
//! ZARR_KERNEL_DISPLAY {"op":"stream","text":"…"}
//! ZARR_KERNEL_DISPLAY {"op":"handled","seq":7}
//! ```
//!
//! `display` becomes `display_data` (with `transient.display_id` when given), `update` becomes
//! `update_display_data`, `clear` becomes `clear_output`, `page` a page for Jupyter's pager in the
//! cell's reply (the `page` payload IPython's `?` uses). `error` is how the prelude's panic hook
//! reports a panic of the cell: the kernel keeps it and, if the cell then ends by that panic,
//! shows it as the cell's error (the server's `errors.rs`). `on_interrupt` is a mime bundle the
//! kernel shows in place of that display if the cell is interrupted (or its process dies) while
//! the display is live: a killed process cannot draw its own final state. The latest message for
//! a display id decides: one without `on_interrupt` (e.g. a finished progress bar) retires it.
//!
//! The comm ops are widgets' side of the Jupyter comm protocol (the server's `comms.rs`; the
//! browser's messages come back on the [comm pipe](crate::comm)): `comm_open`, `comm_msg` and
//! `comm_close` become those iopub messages (`metadata` is the message's, where
//! ipywidgets puts its protocol version); `capture` points an ipywidgets Output widget at the
//! message being handled (its `msg_id`), so what a callback shows lands in that widget, and
//! `release` ends that. While a callback runs, its stdout travels on stderr (stdout is read only
//! during a cell), one `stream` marker per line; `handled` says comm message `seq` is done.
//!
//! The kernel sets [`DISPLAY_ENV`](crate::DISPLAY_ENV) in the engine's environment so code knows it
//! may use markers; elsewhere (plain evcxr, scripts) it should print text instead.

use serde_json::{json, Map, Value};

/// Prefix of a marker line (followed by a JSON object).
pub const PREFIX: &str = "ZARR_KERNEL_DISPLAY ";

/// One parsed display request.
#[derive(Debug, Clone, PartialEq)]
pub enum Marker {
    Display {
        data: Map<String, Value>,
        metadata: Map<String, Value>,
        display_id: Option<String>,
        on_interrupt: Option<Map<String, Value>>,
    },
    Update {
        data: Map<String, Value>,
        metadata: Map<String, Value>,
        display_id: String,
        on_interrupt: Option<Map<String, Value>>,
    },
    Clear {
        wait: bool,
    },
    Page {
        data: Map<String, Value>,
    },
    Error(Panic),
    CommOpen {
        comm_id: String,
        target_name: String,
        data: Map<String, Value>,
        metadata: Map<String, Value>,
    },
    CommMsg {
        comm_id: String,
        data: Map<String, Value>,
    },
    CommClose {
        comm_id: String,
    },
    Capture {
        comm_id: String,
    },
    Release {
        comm_id: String,
    },
    /// A line a callback printed on its stdout.
    Stream {
        text: String,
    },
    Handled {
        seq: u64,
    },
}

/// A panic of the cell, as the prelude's hook saw it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panic {
    /// "panic", or the kind of the prelude error it carried (e.g. "Interrupted").
    pub ename: String,
    pub evalue: String,
    /// Where it happened: `src/lib.rs` is the cell's own generated crate.
    pub file: Option<String>,
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// Only when the user asked for one (RUST_BACKTRACE).
    pub backtrace: Vec<String>,
}

impl Marker {
    /// `None` for ordinary output; else the text before the marker (printed without a newline
    /// just before it, so on its line) and the marker, or why it is malformed (the caller then
    /// shows the whole line as text and says why, rather than losing it).
    pub fn parse(line: &str) -> Option<(&str, Result<Marker, String>)> {
        let at = line.find(PREFIX)?;
        Some((&line[..at], Self::from_json(&line[at + PREFIX.len()..])))
    }

    /// Its line (without a newline): what the prelude prints.
    pub fn line(&self) -> String {
        format!("{PREFIX}{}", self.to_json())
    }

    /// Its JSON object (the inverse of [`Marker::parse`]; absent options are left out).
    pub fn to_json(&self) -> Value {
        let mut v = match self {
            Marker::Display { data, metadata, display_id, on_interrupt } => {
                let mut v = json!({"op": "display", "data": data, "metadata": metadata});
                if let Some(id) = display_id {
                    v["display_id"] = json!(id);
                }
                if let Some(b) = on_interrupt {
                    v["on_interrupt"] = json!(b);
                }
                v
            }
            Marker::Update { data, metadata, display_id, on_interrupt } => {
                let mut v = json!({"op": "update", "data": data, "metadata": metadata, "display_id": display_id});
                if let Some(b) = on_interrupt {
                    v["on_interrupt"] = json!(b);
                }
                v
            }
            Marker::Clear { wait } => json!({"op": "clear", "wait": wait}),
            Marker::Page { data } => json!({"op": "page", "data": data}),
            Marker::Error(p) => json!({
                "op": "error", "ename": p.ename, "evalue": p.evalue, "file": p.file, "line": p.line,
                "column": p.column, "backtrace": p.backtrace,
            }),
            Marker::CommOpen { comm_id, target_name, data, metadata } => json!({
                "op": "comm_open", "comm_id": comm_id, "target_name": target_name, "data": data, "metadata": metadata,
            }),
            Marker::CommMsg { comm_id, data } => json!({"op": "comm_msg", "comm_id": comm_id, "data": data}),
            Marker::CommClose { comm_id } => json!({"op": "comm_close", "comm_id": comm_id}),
            Marker::Capture { comm_id } => json!({"op": "capture", "comm_id": comm_id}),
            Marker::Release { comm_id } => json!({"op": "release", "comm_id": comm_id}),
            Marker::Stream { text } => json!({"op": "stream", "text": text}),
            Marker::Handled { seq } => json!({"op": "handled", "seq": seq}),
        };
        if let Some(obj) = v.as_object_mut() {
            obj.retain(|k, x| !(x.is_null() || k == "metadata" && x.as_object().is_some_and(Map::is_empty)));
        }
        v
    }

    fn from_json(json: &str) -> Result<Marker, String> {
        let v: Value = serde_json::from_str(json).map_err(|e| format!("not JSON ({e})"))?;
        let obj = v.as_object().ok_or("not a JSON object")?;
        let bundle = |key: &str| -> Result<Option<Map<String, Value>>, String> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(m)) => Ok(Some(m.clone())),
                Some(_) => Err(format!("\"{key}\" must be an object")),
            }
        };
        let data = || bundle("data")?.ok_or_else(|| "\"data\" is missing".to_string());
        let metadata = bundle("metadata")?.unwrap_or_default();
        let display_id = match obj.get("display_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => return Err("\"display_id\" must be a non-empty string".into()),
        };
        match obj.get("op").and_then(Value::as_str) {
            Some("display") => {
                Ok(Marker::Display { data: data()?, metadata, display_id, on_interrupt: bundle("on_interrupt")? })
            }
            Some("update") => Ok(Marker::Update {
                data: data()?,
                metadata,
                display_id: display_id.ok_or("\"update\" needs a \"display_id\"")?,
                on_interrupt: bundle("on_interrupt")?,
            }),
            Some("clear") => Ok(Marker::Clear { wait: obj.get("wait").and_then(Value::as_bool).unwrap_or(false) }),
            Some("page") => Ok(Marker::Page { data: data()? }),
            Some("error") => {
                let text = |key: &str| obj.get(key).and_then(Value::as_str).map(String::from);
                let number = |key: &str| obj.get(key).and_then(Value::as_u64);
                Ok(Marker::Error(Panic {
                    ename: text("ename").ok_or("\"error\" needs an \"ename\"")?,
                    evalue: text("evalue").unwrap_or_default(),
                    file: text("file"),
                    line: number("line"),
                    column: number("column"),
                    backtrace: match obj.get("backtrace") {
                        Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).map(String::from).collect(),
                        _ => vec![],
                    },
                }))
            }
            Some(op @ ("comm_open" | "comm_msg" | "comm_close" | "capture" | "release")) => {
                let comm_id = match obj.get("comm_id") {
                    Some(Value::String(s)) if !s.is_empty() => s.clone(),
                    _ => return Err(format!("\"{op}\" needs a \"comm_id\"")),
                };
                Ok(match op {
                    "comm_open" => Marker::CommOpen {
                        comm_id,
                        target_name: obj
                            .get("target_name")
                            .and_then(Value::as_str)
                            .ok_or("\"comm_open\" needs a \"target_name\"")?
                            .to_string(),
                        data: bundle("data")?.unwrap_or_default(),
                        metadata,
                    },
                    "comm_msg" => Marker::CommMsg { comm_id, data: bundle("data")?.unwrap_or_default() },
                    "comm_close" => Marker::CommClose { comm_id },
                    "capture" => Marker::Capture { comm_id },
                    _ => Marker::Release { comm_id },
                })
            }
            Some("stream") => Ok(Marker::Stream {
                text: obj.get("text").and_then(Value::as_str).ok_or("\"stream\" needs a \"text\"")?.to_string(),
            }),
            Some("handled") => Ok(Marker::Handled {
                seq: obj.get("seq").and_then(Value::as_u64).ok_or("\"handled\" needs a \"seq\"")?,
            }),
            Some(op) => Err(format!("unknown op \"{op}\" (display, update, clear, page, error, or a comm op)")),
            None => Err("\"op\" is missing".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn every_marker_round_trips_through_its_line() {
        let b = obj(json!({"text/plain": "a", "image/png": "iVBOR"}));
        let all = [
            Marker::Display { data: b.clone(), metadata: Map::new(), display_id: None, on_interrupt: None },
            Marker::Display {
                data: b.clone(),
                metadata: obj(json!({"isolated": true})),
                display_id: Some("p1".into()),
                on_interrupt: Some(b.clone()),
            },
            Marker::Update { data: b.clone(), metadata: Map::new(), display_id: "p1".into(), on_interrupt: None },
            Marker::Clear { wait: true },
            Marker::Page { data: b.clone() },
            Marker::Error(Panic { ename: "panic".into(), evalue: "boom\nline 2".into(), ..Panic::default() }),
            Marker::Error(Panic {
                ename: "Interrupted".into(),
                evalue: "stopped".into(),
                file: Some("src/lib.rs".into()),
                line: Some(3),
                column: Some(1),
                backtrace: vec!["0: f".into()],
            }),
            Marker::CommOpen {
                comm_id: "c1".into(),
                target_name: "jupyter.widget".into(),
                data: obj(json!({"state": {"value": 1}})),
                metadata: obj(json!({"version": "2.1.0"})),
            },
            Marker::CommMsg { comm_id: "c1".into(), data: obj(json!({"method": "update"})) },
            Marker::CommClose { comm_id: "c1".into() },
            Marker::Capture { comm_id: "o".into() },
            Marker::Release { comm_id: "o".into() },
            Marker::Stream { text: "t=3 \u{1b}[1m".into() },
            Marker::Handled { seq: u64::MAX },
        ];
        for m in all {
            let line = m.line();
            assert!(!line.contains('\n'), "one line: {line}");
            assert_eq!(Marker::parse(&line), Some(("", Ok(m))));
        }
    }

    #[test]
    fn ordinary_lines_are_not_markers() {
        assert_eq!(Marker::parse("hello"), None);
        assert_eq!(Marker::parse("ZARR_KERNEL_DISPLAY"), None);
    }

    #[test]
    fn display_update_and_clear() {
        let m = Marker::parse(
            r#"ZARR_KERNEL_DISPLAY {"op":"display","data":{"text/plain":"a"},"display_id":"p1","on_interrupt":{"text/plain":"stopped"}}"#,
        );
        assert_eq!(
            m.map(|(_, m)| m),
            Some(Ok(Marker::Display {
                data: obj(json!({"text/plain": "a"})),
                metadata: Map::new(),
                display_id: Some("p1".into()),
                on_interrupt: Some(obj(json!({"text/plain": "stopped"}))),
            }))
        );
        let m = Marker::parse(r#"ZARR_KERNEL_DISPLAY {"op":"update","display_id":"p1","data":{"image/png":"iVBOR"}}"#);
        assert!(matches!(m, Some(("", Ok(Marker::Update { on_interrupt: None, .. })))));
        let m = Marker::parse(r#"no newline ZARR_KERNEL_DISPLAY {"op":"clear","wait":true}"#);
        assert_eq!(m, Some(("no newline ", Ok(Marker::Clear { wait: true }))));
    }

    #[test]
    fn panic_reports() {
        let line = format!(
            "{PREFIX}{}",
            r#"{"op":"error","ename":"panic","evalue":"boom","file":"src/lib.rs","line":9,"column":5,"backtrace":["a"]}"#
        );
        let m = Marker::parse(&line);
        let want = Panic {
            ename: "panic".into(),
            evalue: "boom".into(),
            file: Some("src/lib.rs".into()),
            line: Some(9),
            column: Some(5),
            backtrace: vec!["a".into()],
        };
        assert_eq!(m, Some(("", Ok(Marker::Error(want)))));
        let why = Marker::parse(&format!("{PREFIX}{}", r#"{"op":"error"}"#)).unwrap().1.unwrap_err();
        assert!(why.contains("ename"), "{why}");
    }

    #[test]
    fn comm_ops() {
        let m = |s: &str| Marker::parse(&format!("{PREFIX}{s}")).unwrap().1;
        assert_eq!(
            m(
                r#"{"op":"comm_open","comm_id":"c1","target_name":"jupyter.widget","data":{"state":{}},"metadata":{"version":"2.1.0"}}"#
            ),
            Ok(Marker::CommOpen {
                comm_id: "c1".into(),
                target_name: "jupyter.widget".into(),
                data: obj(json!({"state": {}})),
                metadata: obj(json!({"version": "2.1.0"})),
            })
        );
        assert_eq!(
            m(r#"{"op":"comm_msg","comm_id":"c1","data":{"method":"update"}}"#),
            Ok(Marker::CommMsg { comm_id: "c1".into(), data: obj(json!({"method": "update"})) })
        );
        assert_eq!(m(r#"{"op":"comm_close","comm_id":"c1"}"#), Ok(Marker::CommClose { comm_id: "c1".into() }));
        assert_eq!(m(r#"{"op":"capture","comm_id":"o"}"#), Ok(Marker::Capture { comm_id: "o".into() }));
        assert_eq!(m(r#"{"op":"release","comm_id":"o"}"#), Ok(Marker::Release { comm_id: "o".into() }));
        assert_eq!(m(r#"{"op":"stream","text":"t=3"}"#), Ok(Marker::Stream { text: "t=3".into() }));
        assert_eq!(m(r#"{"op":"handled","seq":7}"#), Ok(Marker::Handled { seq: 7 }));
        assert!(m(r#"{"op":"comm_msg","data":{}}"#).unwrap_err().contains("comm_id"));
        assert!(m(r#"{"op":"comm_open","comm_id":"c"}"#).unwrap_err().contains("target_name"));
        assert!(m(r#"{"op":"handled"}"#).unwrap_err().contains("seq"));
    }

    #[test]
    fn malformed_markers_say_why() {
        let why = |s: &str| Marker::parse(&format!("{PREFIX}{s}")).unwrap().1.unwrap_err();
        assert!(why("{").contains("not JSON"));
        assert!(why("[]").contains("object"));
        assert!(why(r#"{"op":"update","data":{}}"#).contains("display_id"));
        assert!(why(r#"{"op":"display"}"#).contains("\"data\" is missing"));
        assert!(why(r#"{"op":"blink","data":{}}"#).contains("unknown op"));
        assert!(why(r#"{"op":"display","data":1}"#).contains("must be an object"));
    }
}
