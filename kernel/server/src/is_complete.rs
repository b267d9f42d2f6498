//! `is_complete_request`: whether a console frontend should run the code it has or ask for
//! another line. Rust code is incomplete while a bracket, a string literal or a block comment is
//! still open, and invalid once a closer has no opener; a full parse is not needed for that.

/// The answer to `is_complete_request`.
#[derive(Debug, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// With the indent for the next line (four spaces per open bracket).
    Incomplete(String),
    Invalid,
}

pub fn check(code: &str) -> Completeness {
    let chars: Vec<char> = code.chars().collect();
    let mut open: Vec<char> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => match block_comment_end(&chars, i) {
                Some(end) => i = end,
                None => return Completeness::Incomplete(indent(open.len())),
            },
            '"' => match string_end(&chars, i + 1) {
                Some(end) => i = end,
                None => return Completeness::Incomplete(String::new()),
            },
            'r' | 'b' | 'c' if !ident_char(chars.get(i.wrapping_sub(1)).copied()) => {
                if let Some(start) = raw_string_start(&chars, i) {
                    match raw_string_end(&chars, start) {
                        Some(end) => i = end,
                        None => return Completeness::Incomplete(String::new()),
                    }
                } else if matches!((c, next), ('b' | 'c', Some('"'))) {
                    match string_end(&chars, i + 2) {
                        Some(end) => i = end,
                        None => return Completeness::Incomplete(String::new()),
                    }
                } else {
                    i = skip_ident(&chars, i);
                }
            }
            '\'' => i = char_literal_end(&chars, i),
            '(' | '[' | '{' => open.push(c),
            ')' | ']' | '}' => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if open.pop() != Some(want) {
                    return Completeness::Invalid;
                }
            }
            c if ident_char(Some(c)) => i = skip_ident(&chars, i),
            _ => {}
        }
        i += 1;
    }
    if open.is_empty() {
        Completeness::Complete
    } else {
        Completeness::Incomplete(indent(open.len()))
    }
}

fn indent(depth: usize) -> String {
    "    ".repeat(depth)
}

fn ident_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Index of the last char of the identifier starting at `i`.
fn skip_ident(chars: &[char], mut i: usize) -> usize {
    while ident_char(chars.get(i + 1).copied()) {
        i += 1;
    }
    i
}

/// Index of the closing `"` of a string whose body starts at `i` (escapes honoured).
fn string_end(chars: &[char], mut i: usize) -> Option<usize> {
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// For `r"`, `r#"`, `br##"`, `cr"` at `i`: (index of the opening `"`, number of `#`).
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if chars[j] != 'r' {
        j += 1; // the b or c prefix
        if chars.get(j) != Some(&'r') {
            return None;
        }
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some((j + hashes, hashes))
}

/// Index of the last `#` (or the `"`) that closes a raw string.
fn raw_string_end(chars: &[char], (quote, hashes): (usize, usize)) -> Option<usize> {
    let mut i = quote + 1;
    while i < chars.len() {
        if chars[i] == '"' && chars[i + 1..].iter().take(hashes).filter(|&&c| c == '#').count() == hashes {
            return Some(i + hashes);
        }
        i += 1;
    }
    None
}

/// Index of the `/` that closes the (nested) block comment opened at `i`.
fn block_comment_end(chars: &[char], mut i: usize) -> Option<usize> {
    let mut depth = 0;
    while i + 1 < chars.len() {
        match (chars[i], chars[i + 1]) {
            ('/', '*') => {
                depth += 1;
                i += 2;
            }
            ('*', '/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i - 1);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// A char literal (`'a'`, `'\n'`, `'\u{1F600}'`) ends at its closing quote; a lifetime or label
/// (`'a`, `'static`) is not a literal: only the quote is skipped.
fn char_literal_end(chars: &[char], i: usize) -> usize {
    match chars.get(i + 1) {
        Some('\\') => (i + 2..chars.len()).find(|&j| chars[j] == '\'').unwrap_or(chars.len()),
        Some(_) if chars.get(i + 2) == Some(&'\'') => i + 2,
        _ => i,
    }
}

#[cfg(test)]
mod tests {
    use super::Completeness::*;
    use super::*;

    fn incomplete(depth: usize) -> Completeness {
        Incomplete("    ".repeat(depth))
    }

    #[test]
    fn brackets() {
        assert_eq!(check(""), Complete);
        assert_eq!(check("let x = 1;"), Complete);
        assert_eq!(check("fn f() {"), incomplete(1));
        assert_eq!(check("fn f() {\n    if x {"), incomplete(2));
        assert_eq!(check("let v = vec![1,\n"), incomplete(1));
        assert_eq!(check("f(1,"), incomplete(1));
        assert_eq!(check("fn f() { g() }"), Complete);
        assert_eq!(check("}"), Invalid);
        assert_eq!(check("f(]"), Invalid);
        assert_eq!(check("let a = [1, 2));"), Invalid);
    }

    #[test]
    fn strings_comments_and_chars_do_not_count() {
        assert_eq!(check(r#"println!("{");"#), Complete);
        assert_eq!(check(r#"let s = "a \" {";"#), Complete);
        assert_eq!(check("let s = \"open"), Incomplete(String::new()));
        assert_eq!(check(r###"let s = r#"a "} " b"#;"###), Complete);
        assert_eq!(check("let s = r#\"open \"\n"), Incomplete(String::new()));
        assert_eq!(check(r#"let b = b"{"; let c = br"}";"#), Complete);
        assert_eq!(check("let c = '{'; let d = '\\''; let e = '\\u{7b}';"), Complete);
        assert_eq!(check("fn f<'a>(x: &'a str) -> &'static str { x }"), Complete);
        assert_eq!(check("'outer: loop { break 'outer; }"), Complete);
        assert_eq!(check("// {\nlet x = 1;"), Complete);
        assert_eq!(check("/* { /* nested } */ ( */ let x = 1;"), Complete);
        assert_eq!(check("/* open"), Incomplete(String::new()));
        assert_eq!(check("let r = bar(x);"), Complete, "identifiers starting with r/b/c are not literals");
    }
}
