//! Renders the prelude's plots to PNG files: `cargo run --example plot_demo -- OUT_DIR`.
use zarr_prelude::prelude::*;

fn main() -> Result<()> {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let a = Array2::from_shape_fn((200, 300), |(i, j)| ((i as f64) / 20.0).sin() * ((j as f64) / 30.0).cos());
    imshow_with(&a, &PlotOptions { xlabel: "x".into(), ylabel: "y".into(), ..PlotOptions::title("sin(y)·cos(x)") })?
        .save(out.join("imshow.png"))?;
    line(&(0..100).map(|i| (i as f64 / 10.0).sin()).collect::<Vec<_>>())?.save(out.join("line.png"))?;
    let v = random([10_000], [10_000]).seed(1).compute()?;
    hist(v.as_slice().unwrap_or(&[]), 30)?.save(out.join("hist.png"))?;
    Ok(())
}
