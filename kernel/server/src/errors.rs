//! A cell's failures as Jupyter `error` outputs: compiler errors drawn against the cell's source
//! (ariadne, with ANSI colours that Jupyter renders); a `?` that returned an error, and a panic,
//! as the one line the user needs (ename, evalue) plus, for a panic, where it happened.

use evcxr::{CellError, CompilationError, Theme};
use jupyter_protocol::ErrorOutput;
use zarr_kernel_protocol::error_line;
use zarr_kernel_protocol::marker::Panic;

/// One `error` output per compiler error, or one for any other failure of the engine.
pub fn outputs(error: &evcxr::Error, source: &str, count: usize) -> Vec<ErrorOutput> {
    match error {
        evcxr::Error::CompilationErrors(errors) => errors.iter().map(|e| compile_error(e, source, count)).collect(),
        other => vec![one_line("Error", &other.to_string())],
    }
}

/// An error with a message and no more: traceback `ename: evalue`, as ipykernel's last line.
pub fn one_line(ename: &str, evalue: &str) -> ErrorOutput {
    ErrorOutput {
        ename: ename.into(),
        evalue: evalue.into(),
        traceback: std::iter::once(format!("\x1b[0;31m{ename}\x1b[0m: {}", first_line(evalue)))
            .chain(evalue.lines().skip(1).map(String::from))
            .collect(),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// What a `?` in the cell returned. A prelude error names its kind (`NotFound: …`, its `{:#}`
/// form); any other error is named by its type (`ParseIntError`, `String`, `anyhow::Error`).
pub fn returned(e: &CellError) -> ErrorOutput {
    if e.type_name == error_line::PRELUDE_ERROR {
        if let Some((kind, message)) = error_line::parse(&e.message) {
            return one_line(kind, message);
        }
    }
    one_line(&type_label(&e.type_name), &e.message)
}

/// A readable name for a type: paths shortened (`alloc::string::String` → `String`), but a bare
/// `Error` keeps its crate or module (`anyhow::Error`, `io::Error`).
pub fn type_label(type_name: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let segments: Vec<&str> = word.split("::").filter(|s| !s.is_empty()).collect();
        let short = match segments.as_slice() {
            [.., "core" | "std" | "alloc", "error", "Error"] => "Error".to_string(),
            [.., module, "error", "Error"] => format!("{module}::Error"),
            [.., module, "Error"] => format!("{module}::Error"),
            [.., last] => last.to_string(),
            [] => String::new(),
        };
        out.push_str(&short);
        word.clear();
    };
    for c in type_name.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// A panic that ended the cell. `generated` is the cell crate's `src/lib.rs`, to say which line
/// of the cell a panic in the cell's own code came from.
pub fn panicked(p: &Panic, source: &str, generated: Option<&str>) -> ErrorOutput {
    let mut out = one_line(&p.ename, &p.evalue);
    if let Some(at) = location(p, source, generated) {
        out.traceback.push(format!("   at {at}"));
    }
    out.traceback.extend(p.backtrace.iter().cloned());
    out
}

/// "cell line 3" for the cell's own code (when that line can be found in the cell), else the
/// file, line and column as the panic said.
fn location(p: &Panic, source: &str, generated: Option<&str>) -> Option<String> {
    let file = p.file.as_deref()?;
    let line = p.line?;
    let col = p.column.map(|c| format!(":{c}")).unwrap_or_default();
    if file == "src/lib.rs" {
        return Some(match generated {
            None => "this cell".to_string(),
            Some(g) => match cell_line(g, line as usize, source) {
                Some(n) => format!("cell line {n}"),
                None => format!("code from an earlier cell (line {line} of the crate evcxr generates)"),
            },
        });
    }
    Some(format!("{file}:{line}{col}"))
}

/// The line of `source` that line `line` (1-based) of the generated crate copies: evcxr copies
/// the cell's lines verbatim, in order. When the text occurs several times in the cell, the
/// occurrence with the same rank among its copies in the generated file is taken.
fn cell_line(generated: &str, line: usize, source: &str) -> Option<usize> {
    let lines: Vec<&str> = generated.lines().collect();
    let text = lines.get(line.checked_sub(1)?)?.trim();
    if text.is_empty() {
        return None;
    }
    let hits: Vec<usize> = source.lines().enumerate().filter(|(_, l)| l.trim() == text).map(|(i, _)| i + 1).collect();
    match hits.as_slice() {
        [] => None,
        [one] => Some(*one),
        _ => hits.get(lines[..line - 1].iter().filter(|l| l.trim() == text).count()).copied(),
    }
}

fn compile_error(error: &CompilationError, source: &str, count: usize) -> ErrorOutput {
    let message = error.message();
    let mut traceback = Vec::new();
    if error.is_from_user_code() {
        let name = format!("cell[{count}]");
        if let Some(report) = error.build_report(name.clone(), source.to_string(), Theme::Light) {
            let mut out = Vec::new();
            if report.write(ariadne::sources([(name, source)]), &mut out).is_ok() {
                traceback = String::from_utf8_lossy(&out).lines().map(String::from).collect();
            }
        }
        if traceback.is_empty() {
            // No report (non-ASCII source): the compiler's own lines, then a caret line.
            for m in error.spanned_messages() {
                traceback.extend(m.lines.iter().cloned());
                match &m.span {
                    Some(span) => {
                        let pad = " ".repeat(span.start_column.saturating_sub(1));
                        let carets = "^".repeat(span.end_column.saturating_sub(span.start_column).max(1));
                        traceback.push(format!("{pad}\x1b[0;31m{carets}\x1b[0m {}", m.label));
                    }
                    None => traceback.push(m.label.clone()),
                }
            }
            traceback.push(message.clone());
            traceback.extend(error.help().into_iter().map(|h| format!("help: {h}")));
        }
    } else {
        traceback.push(format!("\x1b[0;31m{message}\x1b[0m"));
    }
    ErrorOutput { ename: "Error".into(), evalue: message, traceback }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell_error(type_name: &str, message: &str) -> CellError {
        CellError { type_name: type_name.into(), message: message.into() }
    }

    #[test]
    fn prelude_errors_are_named_by_their_kind() {
        let e = returned(&cell_error("zarr_prelude::error::Error", "NotFound: no array at s3://b/a.zarr: check it"));
        assert_eq!((e.ename.as_str(), e.evalue.as_str()), ("NotFound", "no array at s3://b/a.zarr: check it"));
        assert_eq!(e.traceback, vec!["\x1b[0;31mNotFound\x1b[0m: no array at s3://b/a.zarr: check it"]);
    }

    #[test]
    fn other_errors_are_named_by_their_type() {
        assert_eq!(returned(&cell_error("alloc::string::String", "bad: input")).ename, "String");
        assert_eq!(returned(&cell_error("&str", "x")).ename, "&str");
        assert_eq!(type_label("core::num::error::ParseIntError"), "ParseIntError");
        assert_eq!(type_label("anyhow::Error"), "anyhow::Error");
        assert_eq!(type_label("std::io::error::Error"), "io::Error");
        assert_eq!(
            type_label("alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>"),
            "Box<dyn Error + Send + Sync>"
        );
        let multi = returned(&cell_error("anyhow::Error", "outer\n\nCaused by:\n    inner"));
        assert_eq!(multi.traceback.len(), 4, "{:?}", multi.traceback);
    }

    #[test]
    fn panics_say_which_cell_line() {
        let source = "let a = 1;\nlet v: Vec<u8> = vec![];\nlet x = v[3];\n";
        let generated = "fn run() {\nlet a = 1;\nlet v: Vec<u8> = vec![];\nlet x = v[3];\n}\n";
        let p = Panic {
            ename: "panic".into(),
            evalue: "index out of bounds".into(),
            file: Some("src/lib.rs".into()),
            line: Some(4),
            column: Some(9),
            backtrace: vec![],
        };
        let e = panicked(&p, source, Some(generated));
        assert_eq!(e.traceback, vec!["\x1b[0;31mpanic\x1b[0m: index out of bounds", "   at cell line 3"]);
        let elsewhere = Panic { file: Some("/opt/prelude/src/zarr/array.rs".into()), line: Some(12), ..p.clone() };
        assert_eq!(panicked(&elsewhere, source, None).traceback[1], "   at /opt/prelude/src/zarr/array.rs:12:9");
        assert_eq!(panicked(&p, source, None).traceback[1], "   at this cell");
    }

    #[test]
    fn repeated_lines_map_by_rank() {
        let source = "f();\ng();\nf();\n";
        let generated = "x\nf();\ng();\nf();\n";
        assert_eq!(cell_line(generated, 2, source), Some(1));
        assert_eq!(cell_line(generated, 4, source), Some(3));
        assert_eq!(cell_line(generated, 1, source), None);
    }
}
