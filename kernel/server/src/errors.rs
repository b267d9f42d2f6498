//! evcxr's errors as Jupyter `error` outputs: compiler errors drawn against the cell's source
//! (ariadne, with ANSI colours that Jupyter renders), everything else as one line.

use evcxr::{CompilationError, Theme};
use jupyter_protocol::ErrorOutput;

/// One `error` output per compiler error, or one for any other failure.
pub fn outputs(error: &evcxr::Error, source: &str, count: usize) -> Vec<ErrorOutput> {
    match error {
        evcxr::Error::CompilationErrors(errors) => errors.iter().map(|e| compile_error(e, source, count)).collect(),
        other => vec![one_line("Error", &other.to_string())],
    }
}

pub fn one_line(ename: &str, evalue: &str) -> ErrorOutput {
    ErrorOutput { ename: ename.into(), evalue: evalue.into(), traceback: vec![format!("\x1b[0;31m{evalue}\x1b[0m")] }
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
