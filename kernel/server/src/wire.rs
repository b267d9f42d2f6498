//! Messages as they cross the wire, where the protocol crates leave gaps.
//!
//! Reading: a signature seen before is dropped, as ipykernel does (a replayed `execute_request`
//! would run twice); fields the messaging spec lets a client leave out get their documented
//! defaults before the message is typed (the crate requires some, e.g. `unique` of a history
//! search, and a message it could not read was dropped with no reply, so the client waited for
//! its timeout); a request that still cannot be read comes back as [`Unreadable`], to be answered
//! with an error. Sending: every date has at most six fractional digits (jupyter_client parses no
//! more, so it handed a client strings for some messages and datetimes for others).

use jupyter_protocol::{Header, JupyterMessage, JupyterMessageContent, UnknownMessage};
use jupyter_zmq_client::{Connection, RawMessage};
use serde_json::{json, Map, Value};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use zeromq::{SocketRecv, SocketSend};

/// How many signatures are remembered (ipykernel: 2^16).
const REMEMBERED: usize = 1 << 16;

/// The signatures of every message read, on all channels (one HMAC key, one history).
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Signatures>>);

/// The signatures remembered, and their order (the oldest is forgotten first).
#[derive(Default)]
struct Signatures {
    set: HashSet<Vec<u8>>,
    order: VecDeque<Vec<u8>>,
}

impl Seen {
    /// Remember `sig`; false if it was seen before.
    fn first_time(&self, sig: &[u8]) -> bool {
        let mut seen = self.0.lock().unwrap();
        if !seen.set.insert(sig.to_vec()) {
            return false;
        }
        seen.order.push_back(sig.to_vec());
        if seen.order.len() > REMEMBERED {
            if let Some(old) = seen.order.pop_front() {
                seen.set.remove(&old);
            }
        }
        true
    }
}

/// A request whose content the protocol types cannot hold even with defaults: its header and
/// raw content (as an `UnknownMessage`), and why, so that it gets an error reply.
pub struct Unreadable {
    pub msg: JupyterMessage,
    pub why: String,
}

/// What [`read`] got: a message, one to answer with an error, or one dropped (and why, for the
/// kernel's log).
pub enum Read {
    Message(Box<JupyterMessage>),
    Unreadable(Box<Unreadable>),
    Dropped(String),
}

/// The next message on `conn`.
pub async fn read<S: SocketRecv>(conn: &mut Connection<S>, seen: &Seen) -> Result<Read, String> {
    let frames = conn.socket.recv().await.map_err(|e| format!("cannot read the socket: {e}"))?;
    // The signature is the frame after the delimiter; an empty key means unsigned messages.
    let signature = frames
        .iter()
        .position(|f| &f[..] == b"<IDS|MSG>")
        .and_then(|i| frames.get(i + 1))
        .map(|f| f.to_vec())
        .unwrap_or_default();
    let raw = match RawMessage::from_multipart(frames, &conn.mac) {
        Ok(raw) => raw,
        Err(e) => return Ok(Read::Dropped(format!("invalid message ({e})"))),
    };
    if conn.mac.is_some() && !seen.first_time(&signature) {
        return Ok(Read::Dropped("a message with a signature seen before (a replay)".into()));
    }
    let part = |i: usize| -> Result<Value, String> {
        serde_json::from_slice(&raw.jparts[i]).map_err(|e| format!("part {i} is not JSON ({e})"))
    };
    let header: Header = match part(0).and_then(|h| serde_json::from_value(h).map_err(|e| e.to_string())) {
        Ok(h) => h,
        Err(e) => return Ok(Read::Dropped(format!("a message without a valid header ({e})"))),
    };
    let mut content = part(3).unwrap_or(Value::Null);
    if let Value::Object(c) = &mut content {
        with_defaults(&header.msg_type, c);
    }
    let typed = JupyterMessageContent::from_type_and_content(&header.msg_type, content.clone());
    let (content, why) = match typed {
        Ok(c) => (c, None),
        Err(e) => {
            let raw = UnknownMessage { msg_type: header.msg_type.clone(), content };
            (JupyterMessageContent::UnknownMessage(raw), Some(e.to_string()))
        }
    };
    let msg = JupyterMessage {
        zmq_identities: raw.zmq_identities.clone(),
        parent_header: part(1).ok().and_then(|p| serde_json::from_value(p).ok()),
        metadata: part(2).unwrap_or_else(|_| json!({})),
        content,
        buffers: raw.jparts.get(4..).map(<[_]>::to_vec).unwrap_or_default(),
        header,
        channel: None,
    };
    Ok(match why {
        None => Read::Message(Box::new(msg)),
        Some(why) => Read::Unreadable(Box::new(Unreadable { msg, why })),
    })
}

/// Send `msg` with its date in whole microseconds.
pub async fn send<S: SocketSend>(conn: &mut Connection<S>, mut msg: JupyterMessage) -> Result<(), String> {
    stamp(&mut msg);
    conn.send(msg).await.map_err(|e| e.to_string())
}

/// The date cut to whole microseconds, and our user's name as the sender.
pub fn stamp(msg: &mut JupyterMessage) {
    let d = msg.header.date;
    let micros = d.timestamp_subsec_micros();
    if let Some(t) = chrono::DateTime::from_timestamp(d.timestamp(), micros * 1000) {
        msg.header.date = t;
    }
    msg.header.username.clone_from(username());
}

fn username() -> &'static String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "kernel".into()))
}

/// The reply type of a request type (`complete_request` → `complete_reply`), if it is one.
pub fn reply_type(msg_type: &str) -> Option<String> {
    msg_type.strip_suffix("_request").map(|t| format!("{t}_reply"))
}

/// An error reply to request `msg` (any type, known or not).
pub fn error_reply(msg: &JupyterMessage, ename: &str, evalue: &str) -> Option<JupyterMessageContent> {
    let msg_type = reply_type(&msg.header.msg_type)?;
    let content = json!({"status": "error", "ename": ename, "evalue": evalue, "traceback": [evalue]});
    Some(JupyterMessageContent::UnknownMessage(UnknownMessage { msg_type, content }))
}

/// Fill in what the spec lets a client leave out (a `null` counts as left out). Counts such as a
/// history search's `n` have no limit when left out: `i32::MAX` stands for that (see history.rs).
fn with_defaults(msg_type: &str, c: &mut Map<String, Value>) {
    c.retain(|_, v| !v.is_null());
    let code_len = c.get("code").and_then(Value::as_str).map(|s| s.chars().count());
    let mut default = |key: &str, value: Value| {
        c.entry(key.to_string()).or_insert(value);
    };
    match msg_type {
        "execute_request" => {
            default("silent", json!(false));
            let silent = c.get("silent").and_then(Value::as_bool).unwrap_or(false);
            c.entry("store_history").or_insert(json!(!silent));
            c.entry("user_expressions").or_insert(json!({}));
            c.entry("allow_stdin").or_insert(json!(false));
            c.entry("stop_on_error").or_insert(json!(true));
        }
        "complete_request" | "inspect_request" => {
            if let Some(n) = code_len {
                default("cursor_pos", json!(n));
            }
            if msg_type == "inspect_request" {
                default("detail_level", json!(0));
            }
        }
        "history_request" => {
            default("output", json!(false));
            default("raw", json!(true));
            default("hist_access_type", json!("range"));
            match c.get("hist_access_type").and_then(Value::as_str) {
                Some("range") => {
                    c.entry("session").or_insert(json!(0));
                    c.entry("start").or_insert(json!(0));
                    c.entry("stop").or_insert(json!(i32::MAX));
                }
                Some("tail") => {
                    c.entry("n").or_insert(json!(i32::MAX));
                }
                Some("search") => {
                    c.entry("pattern").or_insert(json!("*"));
                    c.entry("unique").or_insert(json!(false));
                    c.entry("n").or_insert(json!(i32::MAX));
                }
                _ => {}
            }
        }
        "shutdown_request" => default("restart", json!(false)),
        "comm_open" | "comm_msg" | "comm_close" => default("data", json!({})),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(msg_type: &str, content: Value) -> Result<JupyterMessageContent, String> {
        let Value::Object(mut c) = content else { panic!() };
        with_defaults(msg_type, &mut c);
        JupyterMessageContent::from_type_and_content(msg_type, Value::Object(c)).map_err(|e| e.to_string())
    }

    #[test]
    fn optional_fields_get_their_defaults() {
        let JupyterMessageContent::ExecuteRequest(e) = typed("execute_request", json!({"code": "1"})).unwrap() else {
            panic!()
        };
        assert!(!e.silent && e.store_history && e.stop_on_error && !e.allow_stdin);
        let JupyterMessageContent::ExecuteRequest(e) =
            typed("execute_request", json!({"code": "1", "silent": true})).unwrap()
        else {
            panic!()
        };
        assert!(e.silent && !e.store_history);
        let search = json!({"hist_access_type": "search", "pattern": "a*", "output": false, "raw": true});
        assert!(typed("history_request", search).is_ok());
        assert!(typed("history_request", json!({"hist_access_type": "tail", "n": null})).is_ok());
        assert!(typed("history_request", json!({})).is_ok());
        let JupyterMessageContent::CompleteRequest(c) = typed("complete_request", json!({"code": "héllo"})).unwrap()
        else {
            panic!()
        };
        assert_eq!(c.cursor_pos, 5);
        assert!(typed("inspect_request", json!({"code": "x"})).is_ok());
        assert!(typed("shutdown_request", json!({})).is_ok());
        assert!(typed("comm_open", json!({"comm_id": "c", "target_name": "t"})).is_ok());
        // What cannot be defaulted stays an error, answered as such.
        assert!(typed("execute_request", json!({})).is_err());
    }

    #[test]
    fn replies_and_dates() {
        assert_eq!(reply_type("debug_request").as_deref(), Some("debug_reply"));
        assert_eq!(reply_type("comm_msg"), None);
        let mut msg = JupyterMessage::new(jupyter_protocol::KernelInfoRequest {}, None);
        msg.header.date = chrono::DateTime::from_timestamp(1, 123_456_789).unwrap();
        stamp(&mut msg);
        let text = serde_json::to_value(&msg.header).unwrap()["date"].as_str().unwrap().to_string();
        assert!(text.contains(".123456") && !text.contains("1234567"), "{text}");
    }

    #[test]
    fn a_signature_counts_once() {
        let seen = Seen::default();
        assert!(seen.first_time(b"abc"));
        assert!(!seen.first_time(b"abc"));
        assert!(seen.first_time(b"abd"));
    }
}
