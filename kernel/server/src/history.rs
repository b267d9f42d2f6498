//! The execution history of this kernel's session, for `history_request` (JupyterLab's console
//! recalls it with the up arrow): every cell run with `store_history`, its execution count and
//! what its value showed as text. Kept in memory, for the kernel's life, as one session
//! (number [`SESSION`]); queries follow ipykernel's: `tail`, `range`, `search` with a glob
//! pattern, `unique` and `n`.

use jupyter_protocol::{HistoryEntry, HistoryRequest};
use std::sync::{Arc, Mutex};

/// The number of this kernel's session in history entries: the only one it knows.
pub const SESSION: usize = 1;

#[derive(Clone)]
struct Entry {
    line: usize,
    input: String,
    output: String,
}

/// The cells run so far (cheap to clone: one shared list).
#[derive(Clone, Default)]
pub struct History(Arc<Mutex<Vec<Entry>>>);

impl History {
    /// Record cell number `line`.
    pub fn add(&self, line: usize, input: &str) {
        let entry = Entry { line, input: input.to_string(), output: String::new() };
        self.0.lock().unwrap().push(entry);
    }

    /// What cell number `line` showed as its value (text/plain).
    pub fn set_output(&self, line: usize, output: &str) {
        if let Some(e) = self.0.lock().unwrap().iter_mut().rev().find(|e| e.line == line) {
            e.output = output.to_string();
        }
    }

    /// The entries a request asks for, oldest first. `i32::MAX` as a count means no limit (see
    /// wire.rs: what a client left out).
    pub fn query(&self, req: &HistoryRequest) -> Vec<HistoryEntry> {
        let all = self.0.lock().unwrap().clone();
        let (picked, output): (Vec<Entry>, bool) = match req {
            HistoryRequest::Tail { n, output, .. } => (last(all, *n), *output),
            HistoryRequest::Range { session, start, stop, output, .. } => {
                // 0 (or none) is the current session, a negative one an earlier session: none here.
                let ours = matches!(session, None | Some(0)) || *session == Some(SESSION as i32);
                let (start, stop) = (i64::from(*start), i64::from(*stop));
                let picked = if ours {
                    all.into_iter().filter(|e| (e.line as i64) >= start && (e.line as i64) < stop).collect()
                } else {
                    vec![]
                };
                (picked, *output)
            }
            HistoryRequest::Search { pattern, unique, n, output, .. } => {
                let mut hits: Vec<Entry> = all.into_iter().filter(|e| glob(pattern, &e.input)).collect();
                if *unique {
                    // The latest run of each distinct input, in the order of those runs.
                    let mut kept: Vec<Entry> = Vec::new();
                    for e in hits.into_iter().rev() {
                        if !kept.iter().any(|k| k.input == e.input) {
                            kept.push(e);
                        }
                    }
                    kept.reverse();
                    hits = kept;
                }
                (last(hits, *n), *output)
            }
        };
        picked
            .into_iter()
            .map(|e| match output {
                false => HistoryEntry::Input(SESSION, e.line, e.input),
                true => HistoryEntry::InputOutput(SESSION, e.line, (e.input, e.output)),
            })
            .collect()
    }
}

/// The last `n` of `v` (all of them for a negative `n`, as IPython).
fn last(mut v: Vec<Entry>, n: i32) -> Vec<Entry> {
    if let Ok(n) = usize::try_from(n) {
        let cut = v.len().saturating_sub(n);
        v.drain(..cut);
    }
    v
}

/// Whether `pattern` matches all of `text`, as SQLite's GLOB (what IPython's history search
/// uses): `*` any run of characters (newlines too), `?` one character, `[abc]`, `[a-z]`, `[^a]`
/// one of a set; case-sensitive.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Positions of the last `*` and the text position it was tried against (backtracking).
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('?') => {
                pi += 1;
                ti += 1;
                continue;
            }
            Some('[') => {
                if let Some((matched, next)) = class(&p, pi, t[ti]) {
                    if matched {
                        pi = next;
                        ti += 1;
                        continue;
                    }
                } else if t[ti] == '[' {
                    pi += 1;
                    ti += 1;
                    continue;
                }
            }
            Some(&c) if c == t[ti] => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The set `[...]` starting at `p[at]`: whether `c` is in it and the index after it; `None`
/// when there is no closing `]` (the `[` is then an ordinary character).
fn class(p: &[char], at: usize, c: char) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut found = false;
    let first = i;
    while i < p.len() && (p[i] != ']' || i == first) {
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            found |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            found |= p[i] == c;
            i += 1;
        }
    }
    (i < p.len()).then_some((found != negated, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(h: &History, req: HistoryRequest) -> Vec<(usize, String)> {
        h.query(&req)
            .into_iter()
            .map(|e| match e {
                HistoryEntry::Input(_, line, input) => (line, input),
                HistoryEntry::InputOutput(_, line, (input, _)) => (line, input),
            })
            .collect()
    }

    #[test]
    fn tail_range_and_search() {
        let h = History::default();
        for (i, code) in ["let a = 1;", "a + 1", "println!(\"{a}\")", "a + 1"].iter().enumerate() {
            h.add(i + 1, code);
        }
        h.set_output(2, "2");
        let tail = |n| HistoryRequest::Tail { n, output: false, raw: true };
        assert_eq!(inputs(&h, tail(2)), vec![(3, "println!(\"{a}\")".into()), (4, "a + 1".into())]);
        assert_eq!(inputs(&h, tail(i32::MAX)).len(), 4);
        let range = |session, start, stop| HistoryRequest::Range { session, start, stop, output: false, raw: true };
        assert_eq!(inputs(&h, range(Some(1), 2, 3)), vec![(2, "a + 1".into())]);
        assert_eq!(inputs(&h, range(Some(0), 0, i32::MAX)).len(), 4);
        assert!(inputs(&h, range(Some(-1), 0, i32::MAX)).is_empty());
        let search = |pattern: &str, unique, n| HistoryRequest::Search {
            pattern: pattern.into(),
            unique,
            output: false,
            raw: true,
            n,
        };
        assert_eq!(inputs(&h, search("a + *", false, i32::MAX)), vec![(2, "a + 1".into()), (4, "a + 1".into())]);
        assert_eq!(inputs(&h, search("a + *", true, i32::MAX)), vec![(4, "a + 1".into())]);
        assert_eq!(inputs(&h, search("*", false, 1)), vec![(4, "a + 1".into())]);
        let with_output = h.query(&HistoryRequest::Tail { n: 3, output: true, raw: true });
        assert!(matches!(&with_output[0], HistoryEntry::InputOutput(1, 2, (i, o)) if i == "a + 1" && o == "2"));
    }

    #[test]
    fn globs_like_sqlite() {
        assert!(glob("*", "") && glob("*", "a\nb") && glob("a*", "abc") && !glob("a*", "ba"));
        assert!(glob("?b?", "abc") && !glob("?b", "abc"));
        assert!(glob("[a-c]x", "bx") && !glob("[^a-c]x", "bx") && glob("[]]", "]"));
        assert!(glob("*1*2*", "x1y2z") && !glob("*1*2*", "x2y1z"));
        assert!(glob("[", "[") && !glob("A*", "abc"));
    }
}
