//! Rich forms of the prelude's values: HTML tables for arrays, groups and listings (with a
//! text/plain twin for consoles and tests), like dask's reprs. [`Rich`] gives them to
//! `display(x)`; evcxr calls `evcxr_display` on a cell's final value.

use crate::fs::{EntryKind, Listing};
use crate::lazy::LazyArray;
use crate::lazy::{Histogram, Stats, StoreReport};
use crate::live::{emit_result, Bundle, Html, Rich};
use crate::text::{esc, human_bytes};
use crate::zarr::{Values, ZarrArray, ZarrGroup};
use std::fmt::{self, Write};

/// A rich form that is the text form, preformatted: for values (shown as ndarray shows them,
/// then dtype and shape, numpy's repr order), a group's members, a store's report, a session.
macro_rules! rich_text {
    ($($t:ty),*) => {$(
        impl Rich for $t {
            fn bundle(&self) -> Bundle {
                let text = self.to_string();
                Bundle::text(text.clone()).html(format!("<pre>{}</pre>", esc(&text)))
            }
        }
    )*};
}
rich_text!(Values, ZarrGroup, StoreReport, crate::repo::Session);

/// `evcxr_display` for each type with a rich form: evcxr finds the method by name.
macro_rules! evcxr_display {
    ($($t:ty),*) => {$(
        impl $t {
            /// Rich display of a cell's final value in Jupyter.
            pub fn evcxr_display(&self) {
                emit_result(&self.bundle());
            }
        }
    )*};
}
evcxr_display!(
    ZarrArray,
    LazyArray,
    ZarrGroup,
    Listing,
    Stats,
    StoreReport,
    Histogram,
    crate::plot::Figure,
    Html,
    Bundle,
    crate::dataset::Dataset,
    crate::dataset::DataArray,
    crate::zarr::Values,
    crate::repo::Repository,
    crate::repo::Session,
    crate::widgets::IntSlider,
    crate::widgets::FloatSlider,
    crate::widgets::Dropdown,
    crate::widgets::Button,
    crate::widgets::Output
);

impl<C: crate::widgets::Control> crate::widgets::Interact<C> {
    /// Rich display of a cell's final value in Jupyter: the control and its output.
    pub fn evcxr_display(&self) {
        emit_result(&self.bundle());
    }
}

/// A cell's final value, shown in one compile. The kernel calls `(&value).evcxr_display()`: the
/// prelude's own types answer with the inherent method above, ndarray arrays with [`ShowRich`],
/// and anything else with its `Debug` text through [`ShowDebug`], which method resolution tries
/// last because it is implemented for `&T`. (Without a method for every type, evcxr compiled a
/// cell ending in a plain value twice: the first try failed, then a `Debug` fallback.)
#[doc(hidden)]
pub trait ShowRich {
    /// Rich display of a cell's final value in Jupyter.
    fn evcxr_display(&self);
}

impl<A, S, D> ShowRich for ndarray::ArrayBase<S, D>
where
    A: fmt::Display,
    S: ndarray::Data<Elem = A>,
    D: ndarray::Dimension,
{
    fn evcxr_display(&self) {
        emit_result(&self.bundle());
    }
}

/// See [`ShowRich`]: the `Debug` text of any other value.
#[doc(hidden)]
pub trait ShowDebug {
    /// The value's `Debug` text as a cell's final value.
    fn evcxr_display(&self);
}

impl<T: fmt::Debug + ?Sized> ShowDebug for &T {
    fn evcxr_display(&self) {
        emit_result(&Bundle::text(format!("{:?}", *self)));
    }
}

/// A small SVG of the chunk grid of the last two dimensions (dask draws the same picture).
fn chunk_svg(shape: &[u64], chunks: &[u64]) -> String {
    let (h, w, ch, cw) = match shape.len() {
        0 => return String::new(),
        1 => (1, shape[0], 1, chunks[0]),
        n => (shape[n - 2], shape[n - 1], chunks[n - 2], chunks[n - 1]),
    };
    let max = 160.0;
    let scale = max / (w.max(h).max(1) as f64);
    let (pw, ph) = ((w as f64 * scale).max(8.0), (h as f64 * scale).max(8.0));
    let mut s = format!(
        "<svg width=\"{:.0}\" height=\"{:.0}\" style=\"stroke:rgb(0,0,0);stroke-width:1\">",
        pw + 4.0,
        ph + 4.0
    );
    let _ = write!(s, "<rect x=\"2\" y=\"2\" width=\"{pw:.1}\" height=\"{ph:.1}\" style=\"fill:#ECB172A0\"/>");
    // At most ~40 lines per axis keeps the picture readable for many chunks.
    let lines = |n: u64, c: u64| -> Vec<f64> {
        let k = n.div_ceil(c.max(1));
        let step = k.div_ceil(40).max(1);
        (1..k).step_by(step as usize).map(|i| (i * c) as f64 / n.max(1) as f64).collect()
    };
    for f in lines(w, cw) {
        let x = 2.0 + f * pw;
        let _ = write!(s, "<line x1=\"{x:.1}\" y1=\"2\" x2=\"{x:.1}\" y2=\"{:.1}\"/>", ph + 2.0);
    }
    if shape.len() > 1 {
        for f in lines(h, ch) {
            let y = 2.0 + f * ph;
            let _ = write!(s, "<line x1=\"2\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/>", pw + 2.0);
        }
    }
    s.push_str("</svg>");
    s
}

fn table(rows: &[(&str, String)]) -> String {
    let mut s = String::from("<table>");
    for (k, v) in rows {
        let _ = write!(
            s,
            "<tr><th style=\"text-align:left\">{}</th><td style=\"text-align:left\">{}</td></tr>",
            esc(k),
            esc(v)
        );
    }
    s.push_str("</table>");
    s
}

impl ZarrArray {
    fn rows(&self) -> Vec<(&'static str, String)> {
        let chunk_bytes = self.chunks.iter().product::<u64>() * self.dtype.size() as u64;
        vec![
            ("URL", self.url()),
            ("Zarr format", self.zarr_format.to_string()),
            ("Shape", format!("{:?}", self.shape)),
            ("Chunks", format!("{:?} ({} per chunk)", self.chunks, human_bytes(chunk_bytes))),
            ("Chunk grid", format!("{:?} = {} chunks", self.chunk_grid(), self.nchunks())),
            ("Dtype", self.dtype.to_string()),
            ("Codecs", self.codecs.clone()),
            ("Fill value", self.fill_value.to_string()),
            ("Size", human_bytes(self.nbytes())),
        ]
    }
}

/// A property table and a chunk-grid picture.
impl Rich for ZarrArray {
    fn bundle(&self) -> Bundle {
        let html = format!(
            "<div style=\"display:flex;gap:2em;align-items:center\"><div><b>Zarr array</b>{}</div>{}</div>",
            table(&self.rows()),
            chunk_svg(&self.shape, &self.chunks)
        );
        Bundle::text(self.to_string()).html(html)
    }
}

impl fmt::Display for ZarrArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Zarr array")?;
        for (k, v) in self.rows() {
            writeln!(f, "  {k:<12} {v}")?;
        }
        Ok(())
    }
}

fn lazy_rows(x: &LazyArray) -> Vec<(&'static str, String)> {
    let chunk_bytes = x.chunks().iter().product::<u64>() * 8;
    let nchunks: u64 = x.chunk_grid().iter().product();
    vec![
        ("Shape", format!("{:?}", x.shape())),
        ("Chunks", format!("{:?} ({} per chunk as f64)", x.chunks(), human_bytes(chunk_bytes))),
        ("Chunk grid", format!("{:?} = {nchunks} chunks", x.chunk_grid())),
        ("Dtype", x.dtype().to_string()),
        ("Tasks", x.tasks().to_string()),
        ("Size", format!("{} as f64", human_bytes(x.nbytes()))),
        ("Memory budget", human_bytes(x.budget())),
    ]
}

/// Like dask's repr: properties, the chunk grid, and the plan.
impl Rich for LazyArray {
    fn bundle(&self) -> Bundle {
        let html = format!(
            "<div style=\"display:flex;gap:2em;align-items:center\"><div><b>Lazy array</b>{}<pre>{}</pre></div>{}</div>",
            table(&lazy_rows(self)),
            esc(&self.plan()),
            chunk_svg(self.shape(), self.chunks())
        );
        Bundle::text(self.to_string()).html(html)
    }
}

impl fmt::Display for LazyArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Lazy array")?;
        for (k, v) in lazy_rows(self) {
            writeln!(f, "  {k:<14} {v}")?;
        }
        writeln!(f, "  Plan")?;
        for line in self.plan().lines() {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ZarrGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Zarr group {} (format {})", self.url(), self.zarr_format)?;
        match self.members() {
            Ok((arrays, groups)) => {
                for g in groups {
                    writeln!(f, "  {g}/ (group)")?;
                }
                for a in arrays {
                    writeln!(f, "  {a} (array)")?;
                }
                Ok(())
            }
            Err(e) => writeln!(f, "  (cannot list members: {e})"),
        }
    }
}

/// A table of names, kinds, sizes and times.
impl Rich for Listing {
    fn bundle(&self) -> Bundle {
        let mut html = format!("<table><caption style=\"text-align:left\">{} ({} entries)</caption><tr><th>name</th><th>type</th><th>size</th><th>modified</th></tr>", esc(if self.path.is_empty() { "buckets" } else { &self.path }), self.len());
        for e in &self.entries {
            let size = if e.kind == EntryKind::File { human_bytes(e.size) } else { String::new() };
            let _ = write!(
                html,
                "<tr><td style=\"text-align:left\">{}</td><td>{}</td><td style=\"text-align:right\">{}</td><td>{}</td></tr>",
                esc(&e.name),
                e.kind,
                size,
                esc(e.modified.as_deref().unwrap_or(""))
            );
        }
        html.push_str("</table>");
        Bundle::text(self.to_string()).html(html)
    }
}

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            match e.kind {
                EntryKind::File => writeln!(f, "{:<60} {:>12}", e.name, e.size)?,
                _ => writeln!(f, "{}/", e.name)?,
            }
        }
        Ok(())
    }
}

/// A one-row table.
impl Rich for Stats {
    fn bundle(&self) -> Bundle {
        let rows = [
            ("count", self.count.to_string()),
            ("mean", self.mean.to_string()),
            ("std", self.std.to_string()),
            ("min", self.min.to_string()),
            ("max", self.max.to_string()),
            ("sum", self.sum.to_string()),
        ];
        Bundle::text(self.to_string()).html(table(&rows))
    }
}

/// The histogram as a bar chart.
impl Rich for Histogram {
    fn bundle(&self) -> Bundle {
        match crate::plot::hist_counts(self, "histogram") {
            Ok(fig) => fig.bundle(),
            Err(e) => Bundle::text(e.to_string()),
        }
    }
}

/// A repository's rows (branches and tags with their snapshots; a failed listing shown in its
/// place) and the last commits of `main`: read once per repr.
fn repository_summary(r: &crate::repo::Repository) -> (Vec<(&'static str, String)>, Vec<crate::repo::Commit>) {
    let named = |refs: crate::error::Result<Vec<(String, String)>>| match refs {
        Ok(n) if n.is_empty() => "none".to_string(),
        Ok(n) => n.iter().map(|(name, id)| format!("{name} ({id})")).collect::<Vec<_>>().join(", "),
        Err(e) => format!("(cannot list: {e})"),
    };
    let rows = vec![("URL", r.url().to_string()), ("Branches", named(r.refs(false))), ("Tags", named(r.refs(true)))];
    let log = r.log("main").map(|l| l.into_iter().take(5).collect()).unwrap_or_default();
    (rows, log)
}

/// The text form of a repository's summary.
fn repository_text(rows: &[(&str, String)], log: &[crate::repo::Commit]) -> String {
    let mut out = "Icechunk repository\n".to_string();
    for (k, v) in rows {
        let _ = writeln!(out, "  {k:<10} {v}");
    }
    for c in log {
        let _ = writeln!(out, "  {}  {}  {}", c.id, c.written_at.format("%Y-%m-%d %H:%M:%S"), c.message);
    }
    out
}

/// Its branches and tags, and a table of the last commits on `main`.
impl Rich for crate::repo::Repository {
    fn bundle(&self) -> Bundle {
        let (rows, log) = repository_summary(self);
        let mut html = format!("<b>Icechunk repository</b>{}", table(&rows));
        html.push_str("<table><caption style=\"text-align:left\">last commits on main</caption><tr><th>snapshot</th><th>written (UTC)</th><th>message</th></tr>");
        for c in &log {
            let _ = write!(
                html,
                "<tr><td><code>{}</code></td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
                esc(&c.id),
                c.written_at.format("%Y-%m-%d %H:%M:%S"),
                esc(&c.message)
            );
        }
        html.push_str("</table>");
        Bundle::text(repository_text(&rows, &log)).html(html)
    }
}

impl fmt::Display for crate::repo::Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rows, log) = repository_summary(self);
        f.write_str(&repository_text(&rows, &log))
    }
}

impl fmt::Display for crate::repo::Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match (self.read_only(), self.has_uncommitted_changes()) {
            (true, _) => "read-only",
            (false, true) => "writable, uncommitted changes",
            (false, false) => "writable, no changes yet",
        };
        writeln!(f, "Icechunk session: {} ({state}) at snapshot {}", self.describe(), self.snapshot_id())
    }
}
