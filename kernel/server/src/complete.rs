//! Completions and inspection (Shift+Tab) through evcxr's rust-analyzer.
//!
//! Jupyter counts `cursor_pos` in Unicode code points (protocol 5.2+); evcxr works in bytes.

use crate::engine::Engine;
use jupyter_protocol::{CompleteReply, CompleteRequest, InspectReply, InspectRequest, Media, MediaType};
use serde_json::{json, Map};
use std::sync::Arc;

/// Byte offset of code point `pos` (the end if past it).
pub fn byte_offset(code: &str, pos: usize) -> usize {
    code.char_indices().nth(pos).map_or(code.len(), |(b, _)| b)
}

/// Code point index of byte offset `b` (clamped to the code, rounded down to a char boundary).
pub fn char_offset(code: &str, b: usize) -> usize {
    let mut b = b.min(code.len());
    while !code.is_char_boundary(b) {
        b -= 1;
    }
    code[..b].chars().count()
}

/// Completions at the cursor; none while the engine is still starting.
pub async fn completions(engine: Option<Arc<Engine>>, req: CompleteRequest) -> CompleteReply {
    let cursor = req.cursor_pos;
    let found = tokio::task::spawn_blocking(move || {
        let at = byte_offset(&req.code, req.cursor_pos);
        let engine = engine?;
        let c = engine.ctx.lock().unwrap().completions(&req.code, at);
        engine.analysis.touch();
        let c = c.ok()?;
        Some((char_offset(&req.code, c.start_offset), char_offset(&req.code, c.end_offset), c.completions))
    })
    .await
    .ok()
    .flatten();
    let Some((start, end, items)) = found else {
        // Nothing to offer (or rust-analyzer failed): an empty, valid reply.
        return CompleteReply { cursor_start: cursor, cursor_end: cursor, ..Default::default() };
    };
    let types: Vec<_> =
        items.iter().map(|c| json!({"text": c.label, "type": c.kind, "start": start, "end": end})).collect();
    let mut metadata = Map::new();
    metadata.insert("_jupyter_types_experimental".into(), types.into());
    CompleteReply {
        matches: items.into_iter().map(|c| c.code).collect(),
        cursor_start: start,
        cursor_end: end,
        metadata,
        ..Default::default()
    }
}

/// The end of the identifier the cursor is in or just after: evcxr's hover looks at the code
/// before the offset, so a cursor inside `Vec` must become the offset after it.
pub fn word_end(code: &str, at: usize) -> usize {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code[at..].char_indices().find(|&(_, c)| !ident(c)).map_or(code.len(), |(i, _)| at + i)
}

/// Documentation of the word at the cursor (Shift+Tab); none while the engine is starting.
pub async fn inspect(engine: Option<Arc<Engine>>, req: InspectRequest) -> InspectReply {
    let hover = tokio::task::spawn_blocking(move || {
        let at = word_end(&req.code, byte_offset(&req.code, req.cursor_pos));
        let engine = engine?;
        let hover = engine.ctx.lock().unwrap().hover_at(&req.code, at);
        engine.analysis.touch();
        hover.ok()
    })
    .await
    .ok()
    .flatten();
    match hover {
        // evcxr answers this text rather than an error for unknown symbols.
        Some((plain, html)) if plain != "No documentation found" => InspectReply {
            found: true,
            data: Media::new(vec![MediaType::Plain(plain), MediaType::Html(html)]),
            ..Default::default()
        },
        _ => InspectReply::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_code_points() {
        let s = "a̐éx"; // a + combining ring (2 code points), é, x
        assert_eq!(byte_offset(s, 0), 0);
        assert_eq!(byte_offset(s, 2), 3);
        assert_eq!(byte_offset(s, 4), 6);
        assert_eq!(byte_offset(s, 99), s.len());
        assert_eq!(char_offset(s, 3), 2);
        assert_eq!(char_offset(s, 4), 2); // inside é: rounds down
        assert_eq!(char_offset(s, 99), 4);
    }

    #[test]
    fn hover_looks_at_the_whole_word() {
        let code = "let v: Vec<u8> = Vec::new();";
        assert_eq!(&code[..word_end(code, 8)], "let v: Vec");
        assert_eq!(&code[..word_end(code, 10)], "let v: Vec");
        assert_eq!(&code[..word_end(code, 22)], "let v: Vec<u8> = Vec::new");
        assert_eq!(word_end("abc", 3), 3);
    }
}
