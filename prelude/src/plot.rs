//! Plots as PNG (renders inline in Jupyter and on GitHub): `imshow` for 2-D arrays with a
//! colorbar, `line`, and `hist`. Headless: the font (DejaVu Sans) is compiled in.

use crate::error::{Error, Result};
use crate::lazy::Histogram;
use crate::zarr::Element;
use ndarray::{Array2, ArrayBase, Data, Dimension, Ix2};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::Once;

/// A rendered figure (PNG). Shows itself inline as a cell's last value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    png: Vec<u8>,
    width: u32,
    height: u32,
}

impl Figure {
    /// The PNG bytes.
    pub fn png(&self) -> &[u8] {
        &self.png
    }
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Write the PNG to a file.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, &self.png).map_err(|e| Error::io("cannot write", path, e))
    }
}

/// `image/png` (and a one-line text form for consoles).
impl crate::live::Rich for Figure {
    fn bundle(&self) -> crate::live::Bundle {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.png);
        crate::live::Bundle::text(format!("Figure {}x{} (PNG)", self.width, self.height)).with("image/png", b64)
    }
}

/// Title, size and axis labels; `vmin`/`vmax` fix the colour scale of `imshow`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotOptions {
    /// Title above the plot.
    pub title: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// X axis label.
    pub xlabel: String,
    /// Y axis label.
    pub ylabel: String,
    /// Lower end of the colour scale (default: data minimum).
    pub vmin: Option<f64>,
    /// Upper end of the colour scale (default: data maximum).
    pub vmax: Option<f64>,
    /// `imshow`: the coordinates of the image's edges, `[left, right, first row, last row]`
    /// (matplotlib's `extent`, row 0's edge third). Axes are labelled in them; when the rows'
    /// values increase, the image is flipped so that they increase upwards (latitudes).
    pub extent: Option<[f64; 4]>,
    /// `imshow`: the colorbar's label (a variable's name and units).
    pub colorbar_label: String,
    /// `line_xy`: labels for x values (dates), shown at the ticks nearest to them.
    pub x_ticks: Vec<(f64, String)>,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            title: String::new(),
            width: 640,
            height: 480,
            xlabel: String::new(),
            ylabel: String::new(),
            vmin: None,
            vmax: None,
            extent: None,
            colorbar_label: String::new(),
            x_ticks: vec![],
        }
    }
}

impl PlotOptions {
    /// Default options with a title.
    pub fn title(title: &str) -> Self {
        PlotOptions { title: title.to_string(), ..Default::default() }
    }
}

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    });
}

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::other(format!("plotting failed: {e}; try a smaller figure or check the data for NaN/inf"))
}

/// Render with plotters into an RGB buffer, then PNG-encode it.
fn render(w: u32, h: u32, draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>) -> Result<Figure> {
    if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
        return Err(Error::invalid(format!("figure size {w}x{h} is out of range; use 16..8192 pixels per side")));
    }
    fonts();
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(plot_err)?;
        writer.write_image_data(&buf).map_err(plot_err)?;
    }
    Ok(Figure { png, width: w, height: h })
}

/// Viridis, interpolated between 9 anchors (close to matplotlib's default colormap).
pub(crate) fn viridis(t: f64) -> RGBColor {
    const A: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    if t.is_nan() {
        return RGBColor(220, 220, 220);
    }
    let x = t.clamp(0.0, 1.0) * 8.0;
    let i = (x.floor() as usize).min(7);
    let f = x - i as f64;
    let lerp = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    RGBColor(lerp(A[i].0, A[i + 1].0), lerp(A[i].1, A[i + 1].1), lerp(A[i].2, A[i + 1].2))
}

/// Show a 2-D array as an image with a colorbar (row 0 at the top), like `plt.imshow`.
pub fn imshow<T: Element, S: Data<Elem = T>, D: Dimension>(a: &ArrayBase<S, D>) -> Result<Figure> {
    imshow_with(a, &PlotOptions::default())
}

/// [`imshow`] with options.
pub fn imshow_with<T: Element, S: Data<Elem = T>, D: Dimension>(
    a: &ArrayBase<S, D>,
    opts: &PlotOptions,
) -> Result<Figure> {
    let a = a.mapv(|v| v.to_f64()).into_dimensionality::<Ix2>().map_err(|_| {
        Error::invalid(format!("imshow needs a 2-D array, got shape {:?}; slice it first, e.g. read_slice(&[0..1, 0..n, 0..m]) then .index_axis(Axis(0), 0)", a.shape()))
    })?;
    imshow_f64(&a, opts)
}

fn imshow_f64(a: &Array2<f64>, opts: &PlotOptions) -> Result<Figure> {
    let (rows, cols) = a.dim();
    if rows == 0 || cols == 0 {
        return Err(Error::invalid("imshow got an empty array"));
    }
    let finite = a.iter().copied().filter(|v| v.is_finite());
    let lo = opts.vmin.unwrap_or_else(|| finite.clone().fold(f64::INFINITY, f64::min));
    let hi = opts.vmax.unwrap_or_else(|| finite.fold(f64::NEG_INFINITY, f64::max));
    let (lo, hi) =
        if lo.is_finite() && hi.is_finite() { (lo, if hi > lo { hi } else { lo + 1.0 }) } else { (0.0, 1.0) };
    // Row and column values of the image's edges; without an extent, indices (row 0 on top).
    let [x0, x1, y0, y1] = opts.extent.unwrap_or([0.0, cols as f64, rows as f64, 0.0]);
    let (flip_x, flip_y) = (x0 > x1, y0 < y1);
    let digits = |a: f64, b: f64| if (a - b).abs() >= 20.0 { 0 } else { 1 };
    let (dx, dy) = (digits(x0, x1), digits(y0, y1));
    render(opts.width, opts.height, |root| {
        let (main, bar) = root.split_horizontally(opts.width.saturating_sub(100));
        let mut chart = ChartBuilder::on(&main)
            .caption(&opts.title, ("sans-serif", 18))
            .margin(8)
            .x_label_area_size(if opts.xlabel.is_empty() { 30 } else { 40 })
            .y_label_area_size(if opts.ylabel.is_empty() { 45 } else { 55 })
            .build_cartesian_2d(x0.min(x1)..x0.max(x1), y0.min(y1)..y0.max(y1))
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(opts.xlabel.as_str())
            .y_desc(opts.ylabel.as_str())
            .x_label_formatter(&|v| format!("{v:.dx$}"))
            .y_label_formatter(&|v| format!("{v:.dy$}"))
            .draw()
            .map_err(plot_err)?;
        let area = chart.plotting_area();
        let (xr, yr) = area.get_pixel_range();
        let (pw, ph) = ((xr.end - xr.start).max(1) as usize, (yr.end - yr.start).max(1) as usize);
        let strip = area.strip_coord_spec();
        for py in 0..ph {
            let r = (py * rows / ph).min(rows - 1);
            let r = if flip_y { rows - 1 - r } else { r };
            for px in 0..pw {
                let c = (px * cols / pw).min(cols - 1);
                let c = if flip_x { cols - 1 - c } else { c };
                let color = viridis((a[[r, c]] - lo) / (hi - lo));
                strip.draw_pixel((px as i32, py as i32), &color).map_err(plot_err)?;
            }
        }
        let mut cb = ChartBuilder::on(&bar)
            .margin_top(if opts.title.is_empty() { 8 } else { 34 })
            .margin_bottom(38)
            .margin_right(4)
            .margin_left(4)
            .right_y_label_area_size(if opts.colorbar_label.is_empty() { 58 } else { 74 })
            .build_cartesian_2d(0f64..1f64, lo..hi)
            .map_err(plot_err)?;
        cb.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc(opts.colorbar_label.as_str())
            .y_labels(6)
            .label_style(("sans-serif", 12))
            .y_label_formatter(&|v| format!("{v:.3}"))
            .draw()
            .map_err(plot_err)?;
        let steps = 100;
        cb.draw_series((0..steps).map(|i| {
            let (v0, v1) = (lo + (hi - lo) * i as f64 / steps as f64, lo + (hi - lo) * (i + 1) as f64 / steps as f64);
            Rectangle::new([(0.0, v0), (1.0, v1)], viridis((i as f64 + 0.5) / steps as f64).filled())
        }))
        .map_err(plot_err)?;
        Ok(())
    })
}

/// A line plot of `y` against its index.
pub fn line(y: &[f64]) -> Result<Figure> {
    let x: Vec<f64> = (0..y.len()).map(|i| i as f64).collect();
    line_xy(&x, y, &PlotOptions::default())
}

/// A line plot of `y` against `x`.
pub fn line_xy(x: &[f64], y: &[f64], opts: &PlotOptions) -> Result<Figure> {
    if x.len() != y.len() || x.is_empty() {
        return Err(Error::invalid(format!(
            "line plot needs x and y of the same, non-zero length (got {} and {})",
            x.len(),
            y.len()
        )));
    }
    let range = |v: &[f64]| {
        let (lo, hi) = v
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        if lo.is_finite() {
            if hi > lo {
                (lo, hi)
            } else {
                (lo - 0.5, hi + 0.5)
            }
        } else {
            (0.0, 1.0)
        }
    };
    let ((x0, x1), (y0, y1)) = (range(x), range(y));
    render(opts.width, opts.height, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&opts.title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(plot_err)?;
        let tick = |v: &f64| match opts.x_ticks.iter().min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs())) {
            Some((_, label)) => label.clone(),
            None => format!("{v}"),
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(opts.xlabel.as_str()).y_desc(opts.ylabel.as_str());
        if !opts.x_ticks.is_empty() {
            mesh.x_labels(6).x_label_formatter(&tick);
        }
        mesh.draw().map_err(plot_err)?;
        chart
            .draw_series(LineSeries::new(
                x.iter().zip(y).filter(|(_, v)| v.is_finite()).map(|(a, b)| (*a, *b)),
                BLUE.stroke_width(2),
            ))
            .map_err(plot_err)?;
        Ok(())
    })
}

/// A histogram of in-memory values (`bins` equal bins over their range).
pub fn hist(values: &[f64], bins: usize) -> Result<Figure> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() || bins == 0 {
        return Err(Error::invalid("hist needs at least one finite value and one bin"));
    }
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let width = if hi > lo { (hi - lo) / bins as f64 } else { 1.0 };
    let mut counts = vec![0u64; bins];
    for v in finite {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let edges = (0..=bins).map(|i| lo + width * i as f64).collect();
    hist_counts(&Histogram { edges, counts }, "histogram")
}

/// Draw a computed [`Histogram`] (e.g. from `z.histogram(50, None)`) as bars.
pub fn hist_counts(h: &Histogram, title: &str) -> Result<Figure> {
    let (Some(&lo), Some(&hi)) = (h.edges.first(), h.edges.last()) else {
        return Err(Error::invalid("empty histogram"));
    };
    let top = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.05;
    let hi = if hi > lo { hi } else { lo + 1.0 };
    render(640, 400, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0f64..top)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .y_desc("count")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(h.counts.iter().enumerate().map(|(i, &c)| {
                Rectangle::new([(h.edges[i], 0.0), (h.edges[i + 1], c as f64)], RGBColor(59, 81, 139).filled())
            }))
            .map_err(plot_err)?;
        Ok(())
    })
}
