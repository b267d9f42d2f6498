//! The comm pipe: messages from the browser to a widget that lives in the cell's process.
//!
//! The child inherits the pipe's read end (named in [`COMM_FD_ENV`](crate::COMM_FD_ENV)); the
//! kernel writes one [`Request`] per line:
//!
//! ```text
//! {"seq":7,"op":"msg","comm_id":"c1","data":{"method":"update","state":{"value":3}}}
//! {"seq":8,"op":"close","comm_id":"c1","data":{}}
//! ```
//!
//! The child runs the widget's callbacks and then answers with a `handled` marker carrying the
//! `seq` ([`Marker::Handled`](crate::marker::Marker::Handled)); the kernel waits for it before it
//! reads its next request, so a callback and a cell never run at the same time.

use serde_json::{json, Map, Value};

/// What the browser asks of a comm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// A `comm_msg` (ipywidgets: `update` with new state, `custom` such as a button's click).
    Msg,
    /// A `comm_close`.
    Close,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Msg => "msg",
            Op::Close => "close",
        }
    }
}

/// One message for the child.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Increasing per kernel: the `handled` answer names it.
    pub seq: u64,
    pub op: Op,
    pub comm_id: String,
    pub data: Map<String, Value>,
}

impl Request {
    /// Its line on the pipe, newline included.
    pub fn line(&self) -> String {
        format!("{}\n", json!({"seq": self.seq, "op": self.op.name(), "comm_id": self.comm_id, "data": self.data}))
    }

    /// Parse one line (without its newline), or say why it is not a request.
    pub fn parse(line: &str) -> Result<Request, String> {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
        let op = match v["op"].as_str() {
            Some("msg") => Op::Msg,
            Some("close") => Op::Close,
            other => return Err(format!("unknown op {other:?} (msg or close)")),
        };
        Ok(Request {
            seq: v["seq"].as_u64().ok_or("\"seq\" is missing")?,
            op,
            comm_id: v["comm_id"].as_str().ok_or("\"comm_id\" is missing")?.to_string(),
            data: v["data"].as_object().cloned().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_as_one_line() {
        let data = json!({"method": "update", "state": {"value": 3}}).as_object().unwrap().clone();
        let r = Request { seq: 7, op: Op::Msg, comm_id: "c1".into(), data };
        let line = r.line();
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1, "{line}");
        assert_eq!(Request::parse(line.trim_end()), Ok(r));
        let close = Request { seq: 8, op: Op::Close, comm_id: "c1".into(), data: Map::new() };
        assert_eq!(Request::parse(close.line().trim_end()), Ok(close));
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(Request::parse("{").unwrap_err().contains("not JSON"));
        assert!(Request::parse(r#"{"seq":1,"op":"boom","comm_id":"c"}"#).unwrap_err().contains("unknown op"));
        assert!(Request::parse(r#"{"op":"msg","comm_id":"c"}"#).unwrap_err().contains("seq"));
        assert!(Request::parse(r#"{"seq":1,"op":"close"}"#).unwrap_err().contains("comm_id"));
    }
}
