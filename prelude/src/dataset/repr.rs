//! The reprs of [`Dataset`] and [`DataArray`], laid out like xarray's: dimensions,
//! coordinates with their ranges, variables with dims, dtype and size, attributes; HTML for
//! Jupyter and the same as text.

use super::coord::Coordinate;
use super::dataarray::DataArray;
use super::Dataset;
use crate::live::{Bundle, Rich};
use crate::text::{esc, human_bytes};
use serde_json::{Map, Value};
use std::fmt::{self, Write};

/// One line of a section: marker, name, dims, dtype, summary.
struct Row {
    marker: &'static str,
    name: String,
    dims: String,
    dtype: String,
    summary: String,
}

fn coord_row(c: &Coordinate) -> Row {
    Row {
        marker: if c.dim.as_deref() == Some(c.name.as_str()) { "*" } else { " " },
        name: c.name.clone(),
        dims: c.dim.as_ref().map(|d| format!("({d})")).unwrap_or_else(|| "()".into()),
        dtype: if c.time.is_some() {
            format!("datetime ({})", c.time.as_ref().map(|t| t.calendar().name()).unwrap_or(""))
        } else {
            "float64".into()
        },
        summary: c.range_text(),
    }
}

fn var_row(v: &DataArray) -> Row {
    let elems = v.size() * v.dtype.size() as u64;
    let chunks = v.data.chunks().iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ");
    Row {
        marker: " ",
        name: v.name.clone(),
        dims: format!("({})", v.dims.join(", ")),
        dtype: v.dtype.name().to_string(),
        summary: format!("{} lazy, chunks ({chunks})", human_bytes(elems)),
    }
}

fn attr_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The sections (title, rows) of a repr.
fn text(
    out: &mut String,
    header: &str,
    sections: &[(&str, Vec<Row>)],
    attrs: &Map<String, Value>,
    problems: &[String],
) {
    let _ = writeln!(out, "{header}");
    for (title, rows) in sections.iter().filter(|(_, r)| !r.is_empty()) {
        let _ = writeln!(out, "{title}:");
        let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
        for r in rows {
            let _ = writeln!(out, "  {} {:<w$} {} {} {}", r.marker, r.name, r.dims, r.dtype, r.summary);
        }
    }
    if !attrs.is_empty() {
        let _ = writeln!(out, "Attributes:");
        for (k, v) in attrs {
            let _ = writeln!(out, "    {k}: {}", attr_text(v));
        }
    }
    for p in problems {
        let _ = writeln!(out, "Not opened: {p}");
    }
}

fn html(header: &str, sections: &[(&str, Vec<Row>)], attrs: &Map<String, Value>, problems: &[String]) -> String {
    let mut h = format!("<div><div style=\"font-family:monospace\"><b>{}</b></div>", esc(header));
    let cell = "style=\"padding:1px 8px;text-align:left\"";
    for (title, rows) in sections.iter().filter(|(_, r)| !r.is_empty()) {
        let _ = write!(
            h,
            "<details open><summary><b>{title}</b> ({})</summary><table style=\"font-family:monospace\">",
            rows.len()
        );
        for r in rows {
            let _ = write!(
                h,
                "<tr><td {cell}>{}</td><td {cell}><b>{}</b></td><td {cell}>{}</td><td {cell}>{}</td><td {cell}>{}</td></tr>",
                r.marker,
                esc(&r.name),
                esc(&r.dims),
                esc(&r.dtype),
                esc(&r.summary)
            );
        }
        h.push_str("</table></details>");
    }
    if !attrs.is_empty() {
        let _ = write!(
            h,
            "<details><summary><b>Attributes</b> ({})</summary><table style=\"font-family:monospace\">",
            attrs.len()
        );
        for (k, v) in attrs {
            let _ = write!(h, "<tr><td {cell}>{}</td><td {cell}>{}</td></tr>", esc(k), esc(&attr_text(v)));
        }
        h.push_str("</table></details>");
    }
    for p in problems {
        let _ = write!(h, "<div style=\"color:#b00\">Not opened: {}</div>", esc(p));
    }
    h.push_str("</div>");
    h
}

fn dims_text(dims: &[(String, u64)]) -> String {
    dims.iter().map(|(d, n)| format!("{d}: {n}")).collect::<Vec<_>>().join(", ")
}

impl Dataset {
    fn parts(&self) -> (String, Vec<(&'static str, Vec<Row>)>) {
        let at = self.url().map(|u| format!(" {u}")).unwrap_or_default();
        let how = match (self.consolidated, self.decoded) {
            (true, true) => ", consolidated",
            (true, false) => ", consolidated, not decoded",
            (false, false) => ", not decoded",
            (false, true) => "",
        };
        let header = format!("Dataset{at} ({}){how}", dims_text(&self.dims));
        let sections = vec![
            ("Coordinates", self.coords.iter().map(coord_row).collect()),
            ("Data variables", self.vars.iter().map(var_row).collect()),
        ];
        (header, sections)
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (header, sections) = self.parts();
        let mut out = String::new();
        text(&mut out, &header, &sections, &self.attrs, &self.problems());
        f.write_str(out.trim_end())
    }
}

impl Rich for Dataset {
    fn bundle(&self) -> Bundle {
        let (header, sections) = self.parts();
        Bundle::text(self.to_string()).html(html(&header, &sections, &self.attrs, &self.problems()))
    }
}

impl DataArray {
    fn parts(&self) -> (String, Vec<(&'static str, Vec<Row>)>) {
        let dims: Vec<(String, u64)> = self.dims.iter().cloned().zip(self.shape().iter().copied()).collect();
        let r = var_row(self);
        let header = format!("DataArray '{}' ({}) {} {}", self.name, dims_text(&dims), r.dtype, r.summary);
        (header, vec![("Coordinates", self.coords.iter().map(coord_row).collect())])
    }
}

impl fmt::Display for DataArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (header, sections) = self.parts();
        let mut out = String::new();
        text(&mut out, &header, &sections, &self.attrs, &[]);
        f.write_str(out.trim_end())
    }
}

impl Rich for DataArray {
    fn bundle(&self) -> Bundle {
        let (header, sections) = self.parts();
        Bundle::text(self.to_string()).html(html(&header, &sections, &self.attrs, &[]))
    }
}
