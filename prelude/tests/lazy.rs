//! Lazy arrays against the same computation done eagerly with ndarray on the same stored data,
//! over several chunkings (edge chunks, 1-D, 3-D, one chunk for the whole array), in a local
//! directory store.

use ndarray::{ArrayD, Axis, IxDyn};
use zarr_prelude::prelude::*;

/// Values with structure along every axis (so an axis mix-up shows), some negative.
fn data(shape: &[usize]) -> ArrayD<f64> {
    let mut k = 0u64;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        k += 1;
        ((k * 7919) % 1009) as f64 / 13.0 - 30.0 + (k as f64).sqrt()
    })
}

fn stored(dir: &std::path::Path, name: &str, a: &ArrayD<f64>, chunks: &[u64]) -> ZarrArray {
    let shape: Vec<u64> = a.shape().iter().map(|&n| n as u64).collect();
    let spec = ArraySpec::new(shape, chunks.to_vec(), "f8").compressor(Compressor::Zstd(1)).v3();
    let z = create_array(dir.join(name).to_str().unwrap(), &spec).unwrap();
    z.write(a).unwrap();
    z
}

fn close(got: &ArrayD<f64>, want: &ArrayD<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= 1e-12 * w.abs().max(1.0);
        assert!(ok, "{what}: element {i}: {g} != {w}");
    }
}

fn scalar(got: f64, want: f64, what: &str) {
    let ok = (got.is_nan() && want.is_nan()) || (got - want).abs() <= 1e-12 * want.abs().max(1.0);
    assert!(ok, "{what}: {got} != {want}");
}

/// ndarray's reductions over several axes, one at a time from the highest.
fn over(a: &ArrayD<f64>, axes: &[usize], f: impl Fn(&ArrayD<f64>, Axis) -> ArrayD<f64>) -> ArrayD<f64> {
    let mut out = a.clone();
    for &ax in axes.iter().rev() {
        out = f(&out, Axis(ax));
    }
    out
}

fn check_all(shape: &[usize], chunkings: &[&[u64]]) {
    let dir = tempfile::tempdir().unwrap();
    let a = data(shape);
    let n = a.len() as f64;
    for (k, chunks) in chunkings.iter().enumerate() {
        let what = format!("shape {shape:?} chunks {chunks:?}");
        let z = stored(dir.path(), &format!("in{k}.zarr"), &a, chunks);
        let x = from_zarr(&z);
        assert_eq!(x.chunks(), *chunks);
        close(&x.compute().unwrap(), &a, &format!("{what}: compute"));
        close(&((&x * 2.0 + 1.0) / 4.0 - &x).compute().unwrap(), &(a.mapv(|v| (v * 2.0 + 1.0) / 4.0 - v)), &what);
        close(&(10.0 - &x).abs().sqrt().compute().unwrap(), &a.mapv(|v| (10.0 - v).abs().sqrt()), &what);
        close(&x.clip(-5.0, 5.0).map(|v| v * v).compute().unwrap(), &a.mapv(|v| v.clamp(-5.0, 5.0).powi(2)), &what);
        close(&x.astype("f4").compute().unwrap(), &a.mapv(|v| v as f32 as f64), &format!("{what}: astype"));

        // Whole-array reductions: sums exactly as numpy would up to rounding; min/max exact.
        scalar(x.sum().unwrap(), a.sum(), &format!("{what}: sum"));
        scalar(x.mean().unwrap(), a.sum() / n, &format!("{what}: mean"));
        let var = a.mapv(|v| (v - a.sum() / n).powi(2)).sum() / n;
        scalar(x.var().unwrap(), var, &format!("{what}: var"));
        scalar(x.std().unwrap(), var.sqrt(), &format!("{what}: std"));
        assert_eq!(x.min().unwrap(), a.iter().cloned().fold(f64::INFINITY, f64::min), "{what}: min");
        assert_eq!(x.max().unwrap(), a.iter().cloned().fold(f64::NEG_INFINITY, f64::max), "{what}: max");
        assert_eq!(x.count().unwrap(), n);

        // Reductions over each axis and (3-D) over all but the last, and the anomaly against them.
        let mut axis_sets: Vec<Vec<usize>> = (0..shape.len()).map(|d| vec![d]).collect();
        if shape.len() > 2 {
            axis_sets.push((0..shape.len() - 1).collect());
        }
        for axes in &axis_sets {
            let w = format!("{what} axes {axes:?}");
            let mean = over(&a, axes, |b, ax| b.mean_axis(ax).unwrap());
            close(&x.mean_axis(axes).compute().unwrap(), &mean, &format!("{w}: mean_axis"));
            close(
                &x.sum_axis(axes).compute().unwrap(),
                &over(&a, axes, |b, ax| b.sum_axis(ax)),
                &format!("{w}: sum_axis"),
            );
            let max = over(&a, axes, |b, ax| b.fold_axis(ax, f64::NEG_INFINITY, |m, &v| m.max(v)));
            assert_eq!(x.max_axis(axes).compute().unwrap(), max, "{w}: max_axis");
            if axes.len() == 1 {
                let std = a.std_axis(Axis(axes[0]), 0.0);
                close(&x.std_axis(axes).compute().unwrap(), &std, &format!("{w}: std_axis"));
            }
            if axes == &[0] {
                // (x - x.mean(axis=0)): the mean broadcasts over the trailing dimensions.
                let anomaly = &a - &mean;
                close(&(&x - &x.mean_axis(&[0])).compute().unwrap(), &anomaly, &format!("{w}: anomaly"));
                let out = stored(dir.path(), &format!("anom{k}.zarr"), &ArrayD::zeros(a.raw_dim()), &rechunked(shape));
                let report = (&x - &x.mean_axis(&[0])).store(&out).unwrap();
                assert_eq!(report.chunks, out.chunk_grid().iter().product::<u64>());
                close(&out.read::<f64>().unwrap(), &anomaly, &format!("{w}: anomaly stored with other chunks"));
            }
        }
    }
}

/// Chunks that differ from every input chunking above (so stores cross input chunks).
fn rechunked(shape: &[usize]) -> Vec<u64> {
    shape.iter().map(|&s| (s as u64 / 3).max(1)).collect()
}

#[test]
fn one_dimension() {
    check_all(&[37], &[&[10], &[37], &[1]]);
}

#[test]
fn two_dimensions_with_edge_chunks() {
    check_all(&[23, 17], &[&[5, 4], &[23, 17], &[1, 17], &[8, 3]]);
}

#[test]
fn three_dimensions_like_a_climate_model() {
    check_all(&[6, 9, 11], &[&[1, 9, 11], &[6, 2, 2], &[4, 5, 7]]);
}

#[test]
fn nan_aware_reductions_skip_missing_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = data(&[8, 6]);
    a[[1, 2]] = f64::NAN;
    a[[5, 0]] = f64::NAN;
    for r in 0..8 {
        a[[r, 4]] = f64::NAN; // a whole column missing
    }
    let x = from_zarr(&stored(dir.path(), "nan.zarr", &a, &[3, 4]));
    let valid: Vec<f64> = a.iter().cloned().filter(|v| !v.is_nan()).collect();
    let (sum, n) = (valid.iter().sum::<f64>(), valid.len() as f64);
    assert!(x.sum().unwrap().is_nan() && x.mean().unwrap().is_nan() && x.max().unwrap().is_nan());
    scalar(x.nansum().unwrap(), sum, "nansum");
    scalar(x.nanmean().unwrap(), sum / n, "nanmean");
    assert_eq!(x.nanmin().unwrap(), valid.iter().cloned().fold(f64::INFINITY, f64::min));
    assert_eq!(x.count().unwrap(), n);
    let col_means = x.nanmean_axis(&[0]).compute().unwrap();
    for c in 0..6 {
        let col: Vec<f64> = (0..8).map(|r| a[[r, c]]).filter(|v| !v.is_nan()).collect();
        let want = if col.is_empty() { f64::NAN } else { col.iter().sum::<f64>() / col.len() as f64 };
        scalar(col_means[[c]], want, &format!("nanmean of column {c}"));
    }
    assert_eq!(x.count_axis(&[0]).compute().unwrap()[[4]], 0.0);
    assert_eq!(x.nansum_axis(&[0]).compute().unwrap()[[4]], 0.0, "numpy: the nansum of nothing is 0");
}

#[test]
fn generators_are_sources_and_results_do_not_depend_on_timing() {
    let g = random([40, 30], [7, 8]).seed(3);
    let x = g.clone();
    // A block's values do not depend on how blocks are cut (each generator chunk is its own
    // random stream): computed through other blocks, the same array.
    close(&x.rechunk([9, 5]).compute().unwrap(), &g.compute().unwrap(), "random(..) cut into other blocks");
    assert_eq!(random([4], [2]).seed(1).compute().unwrap(), random([4], [2]).seed(1).compute().unwrap());
    // An edge chunk draws its whole chunk's stream: within the same chunk grid, a larger array
    // has the same values where the two overlap.
    let big = random([42, 32], [7, 8]).seed(3).compute().unwrap();
    assert_eq!(g.compute().unwrap(), big.slice(ndarray::s![..40, ..30]).into_dyn());
    let e = (&x + 1.0).seed(2).compute().unwrap_err();
    assert!(e.kind() == ErrorKind::InvalidInput && e.message().contains("random(shape, chunks).seed(n)"), "{e}");
    let means: Vec<f64> = (0..5).map(|_| (&x * 3.0).mean_axis(&[1]).mean().unwrap()).collect();
    assert!(means.windows(2).all(|w| w[0].to_bits() == w[1].to_bits()), "{means:?}");
    let dir = tempfile::tempdir().unwrap();
    let z = stored(dir.path(), "g.zarr", &ArrayD::zeros(IxDyn(&[40, 30])), &[16, 16]);
    (&x + 1.0).store(&z).unwrap();
    close(&z.read::<f64>().unwrap(), &g.compute().unwrap().mapv(|v| v + 1.0), "stored generator + 1");
}

#[test]
fn bad_plans_fail_with_one_line_when_run() {
    let a = random([4, 5], [2, 2]);
    let b = random([4, 3], [2, 2]);
    let e = (&a + &b).compute().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.message().contains("do not broadcast"), "{e}");
    let e = a.mean_axis(&[2]).compute().unwrap_err();
    assert!(e.message().contains("axis 2 is out of range"), "{e}");
    assert!(a.astype("f3").mean().unwrap_err().message().contains("f3"));
    let dir = tempfile::tempdir().unwrap();
    let z = stored(dir.path(), "small.zarr", &ArrayD::zeros(IxDyn(&[3, 3])), &[2, 2]);
    assert!(a.store(&z).unwrap_err().message().contains("make the shapes equal"));
    // Broadcasting a row over a matrix works, and shows in the plan.
    let row = random([5], [5]);
    let sum = &a + &row;
    assert_eq!(sum.shape(), &[4, 5]);
    assert!(sum.plan().contains("a + b [4, 5]"), "{}", sum.plan());
    // Shown like dask's repr: properties, the plan, the chunk grid.
    let shown = sum.mean_axis(&[0]).bundle();
    for want in ["Lazy array", "Shape          [5]", "Tasks", "mean over axes [0] [5]", "a + b [4, 5]"] {
        assert!(shown.plain().contains(want), "{want:?} not in {}", shown.plain());
    }
    assert!(shown.get("text/html").unwrap().as_str().unwrap().contains("<svg"));
}

#[test]
fn slices_blocks_and_rechunks() {
    let dir = tempfile::tempdir().unwrap();
    let a = data(&[12, 10, 9]);
    let x = from_zarr(&stored(dir.path(), "x.zarr", &a, &[1, 10, 9]));
    let part = x.slice(&[2..9, 3..10, 0..5]);
    assert_eq!(part.shape(), &[7, 7, 5]);
    close(&part.compute().unwrap(), &a.slice(ndarray::s![2..9, 3..10, 0..5]).into_dyn().to_owned(), "slice");
    close(
        &part.mean_axis(&[0]).compute().unwrap(),
        &a.slice(ndarray::s![2..9, 3..10, 0..5]).mean_axis(Axis(0)).unwrap().into_dyn(),
        "slice mean",
    );
    assert!(x.slice(&[0..13, 0..10, 0..9]).compute().unwrap_err().message().contains("out of bounds"));

    // map_blocks sees whole input chunks with their regions, also when stored in other chunks.
    let y = x.map_blocks(|b, region| b.mapv(|v| v + region[0].start as f64 * 1000.0));
    let want = ArrayD::from_shape_fn(a.raw_dim(), |i| a[&i] + i[0] as f64 * 1000.0);
    close(&y.compute().unwrap(), &want, "map_blocks");
    let out = stored(dir.path(), "y.zarr", &ArrayD::zeros(a.raw_dim()), &[12, 3, 3]);
    y.store(&out).unwrap();
    close(&out.read::<f64>().unwrap(), &want, "map_blocks stored as time series");
    let bad = x.map_blocks(|_, _| ArrayD::zeros(IxDyn(&[1])));
    assert!(bad.sum().unwrap_err().message().contains("return the shape it was given"));

    // Rechunked for time series: the same values, the new chunks.
    let r = x.rechunk([12, 5, 3]);
    assert_eq!(r.chunks(), &[12, 5, 3]);
    assert_eq!(r.chunk_grid(), vec![1, 2, 3]);
    close(&r.compute().unwrap(), &a, "rechunk");
    assert!(x.rechunk([1, 2]).mean().unwrap_err().message().contains("each of the 3 dimensions"));
}

#[test]
fn comparisons_and_where_like_numpy() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = data(&[9, 7]);
    a[[2, 3]] = f64::NAN;
    let x = from_zarr(&stored(dir.path(), "w.zarr", &a, &[4, 3]));
    let row = data(&[7]);
    let r = from_zarr(&stored(dir.path(), "row.zarr", &row, &[7]));
    let b = |f: fn(f64, f64) -> bool, o: f64| a.mapv(|v| f64::from(u8::from(f(v, o))));
    close(&x.gt(0.0).compute().unwrap(), &b(|v, o| v > o, 0.0), "x > 0");
    close(&x.le(-3.0).compute().unwrap(), &b(|v, o| v <= o, -3.0), "x <= -3");
    assert_eq!(x.gt(0.0).dtype(), Dtype::Bool);
    let lt_row = ArrayD::from_shape_fn(a.raw_dim(), |i| f64::from(u8::from(a[&i] < row[[i[1]]])));
    close(&x.lt(&r).compute().unwrap(), &lt_row, "x < row (broadcast)");
    // NaN compares false and is not equal to itself, like numpy.
    assert_eq!(x.equal(&x).compute().unwrap()[[2, 3]], 0.0);
    assert_eq!(x.not_equal(&x).compute().unwrap()[[2, 3]], 1.0);
    assert_eq!(x.isnan().sum().unwrap(), 1.0);
    // np.where(x > 0, x, 0), np.where(np.isnan(x), -1, x), and a broadcast row as `b`.
    let pos = where_(x.gt(0.0), &x, 0.0).compute().unwrap();
    close(&pos, &a.mapv(|v| if v > 0.0 { v } else { 0.0 }), "where(x > 0, x, 0)");
    let filled = where_(x.isnan(), -1.0, &x).compute().unwrap();
    close(&filled, &a.mapv(|v| if v.is_nan() { -1.0 } else { v }), "where(isnan(x), -1, x)");
    let mixed = where_(x.ge(&r), &x, &r).compute().unwrap();
    let want = ArrayD::from_shape_fn(a.raw_dim(), |i| if a[&i] >= row[[i[1]]] { a[&i] } else { row[[i[1]]] });
    close(&mixed, &want, "where(x >= row, x, row)");
    assert_eq!(where_(&x, 1.0, 0.0).shape(), &[9, 7], "scalars broadcast");
    let e = where_(&x, from_zarr(&stored(dir.path(), "bad.zarr", &data(&[5]), &[5])), 0.0).compute().unwrap_err();
    assert!(e.message().starts_with("where_: shapes"), "{e}");
    // A mask stored as bool reads back as bool.
    let spec = ArraySpec::new([9, 7], [4, 4], "bool").v3();
    let mask = create_array(dir.path().join("mask.zarr").to_str().unwrap(), &spec).unwrap();
    x.gt(0.0).store(&mask).unwrap();
    assert_eq!(mask.read::<bool>().unwrap(), a.mapv(|v| v > 0.0));
}

#[test]
fn storing_time_steps_as_time_series_goes_through_an_intermediate_array() {
    let dir = tempfile::tempdir().unwrap();
    let a = data(&[30, 12, 20]);
    let x = from_zarr(&stored(dir.path(), "steps.zarr", &a, &[1, 12, 20]));
    let series = |name: &str| {
        let spec = ArraySpec::new([30, 12, 20], [30, 3, 4], "f8").v3().compressor(Compressor::Zstd(1));
        create_array(dir.path().join(name).to_str().unwrap(), &spec).unwrap()
    };
    // One pass would make one task of the whole array (30 x 12 x 20 x 16 bytes = 115 KB);
    // with a 20 KB budget the values go through an intermediate array, deleted when done.
    let out = series("series.zarr");
    let report = x.clone().memory_budget(20_000).store(&out).unwrap();
    let tmp = report.intermediate.clone().expect("two passes");
    assert!(tmp.ends_with("series.zarr.rechunk-tmp"), "{tmp}");
    assert!(!std::path::Path::new(&tmp).exists(), "the intermediate array is deleted");
    assert!(report.to_string().contains("in two passes through"), "{report}");
    assert_eq!(out.read::<f64>().unwrap(), a, "values are copied exactly");
    // The same with the default budget: one pass, same values; and through an expression.
    let direct = series("direct.zarr");
    assert!(x.store(&direct).unwrap().intermediate.is_none());
    assert_eq!(direct.read::<f64>().unwrap(), a);
    let anomaly = series("anomaly.zarr");
    let y = (&x - &x.mean_axis(&[0])).memory_budget(20_000);
    assert!(y.store(&anomaly).unwrap().intermediate.is_some());
    close(&anomaly.read::<f64>().unwrap(), &(&a - &a.mean_axis(Axis(0)).unwrap()), "anomaly in two passes");
    // to_zarr creates the array; a rechunk on top does not change the plan.
    let spec = ArraySpec::new([30, 12, 20], [30, 6, 5], "f4").v2();
    let z = x.rechunk([30, 6, 5]).memory_budget(20_000).to_zarr(dir.path().join("f4.zarr").to_str().unwrap(), &spec);
    assert_eq!(z.unwrap().read::<f32>().unwrap(), a.mapv(|v| v as f32));
    let e = x.to_zarr(dir.path().join("no.zarr").to_str().unwrap(), &ArraySpec::new([3], [3], "f8")).unwrap_err();
    assert!(e.message().contains("the spec's shape [3] is not the array's [30, 12, 20]"), "{e}");
}

#[test]
fn plans_round_trip_through_json_without_closures_or_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let a = data(&[12, 8]);
    let x = from_zarr(&stored(dir.path(), "p.zarr", &a, &[5, 3]));
    let g = normal(1.0, 2.0, [12, 8], [5, 3]).seed(7);
    let y = where_((&x - &x.mean_axis(&[0])).gt(0.0), &x * 2.0 + &g, (-&x).clip(-3.0, 3.0))
        .slice(&[1..11, 0..8])
        .rechunk([10, 4])
        .astype("f4")
        .nanstd_axis(&[1]);
    let text = serde_json::to_string(&y.clone().memory_budget(1 << 20).to_json().unwrap()).unwrap();
    let back = LazyArray::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
    assert_eq!(back.plan(), y.plan());
    assert_eq!(back.budget(), 1 << 20);
    let (got, want) = (back.compute().unwrap(), y.compute().unwrap());
    assert!(got.iter().zip(&want).all(|(g, w)| g.to_bits() == w.to_bits()), "{got} != {want}");
    // A user function is its cell library and offset: a test program is no library.
    let e = (&x + &x.map(|v| v * 2.0)).to_json().unwrap_err();
    assert!(
        e.message().starts_with("map's function cannot be sent to workers: it is compiled into the program"),
        "{e}"
    );
    let e = from_fn([2], [2], |_| 1.0).to_json().unwrap_err();
    assert!(e.message().starts_with("from_fn's function cannot be sent"), "{e}");
    let e = x.map_with(f64::NAN, |p, v| v * p).compute().unwrap_err();
    assert!(e.message().starts_with("map_with: the parameters do not read back from their JSON null"), "{e}");

    // An S3 source keeps its endpoint and region, never its keys.
    let endpoint = format!("file://{}", dir.path().display());
    let fs = S3FileSystem::builder()
        .endpoint_url(&endpoint)
        .key("AKIAPLANTESTKEY00000", "plan-secret-value")
        .build()
        .unwrap();
    fs.mkdir("plans").unwrap();
    let z: ZarrArray = fs.create_array("plans/s.zarr", &ArraySpec::new([12, 8], [4, 4], "f8")).unwrap();
    z.write(&a).unwrap();
    let doc = (from_zarr(&z) * 3.0).to_json().unwrap();
    let text = doc.to_string();
    assert!(!text.contains("AKIAPLANTESTKEY") && !text.contains("plan-secret-value"), "{text}");
    assert!(text.contains(&endpoint) && text.contains("s3://plans/s.zarr"), "{text}");
    let back = LazyArray::from_json(&doc).unwrap();
    assert_eq!(back.compute().unwrap(), a.mapv(|v| v * 3.0));

    // Documents that are not plans, or whose source changed: one line each.
    let e = LazyArray::from_json(&json!({"format": "other"})).unwrap_err();
    assert!(e.message().starts_with("not a lazy-array plan"), "{e}");
    let mut doc = doc;
    doc["array"]["node"]["scalar"] = json!("%");
    assert!(LazyArray::from_json(&doc).unwrap_err().message().contains("unknown operator \"%\""));
    let mut moved = (from_zarr(&z) * 3.0).to_json().unwrap();
    moved["array"]["node"]["x"]["shape"] = json!([12, 9]);
    let e = LazyArray::from_json(&moved).unwrap_err();
    assert!(e.message().contains("the plan was made for [12, 9]"), "{e}");
}

#[test]
fn stats_and_histograms_of_any_lazy_array() {
    // Of an expression (no array stored anywhere), against the values computed in memory.
    let x = &normal(2.0, 3.0, [30, 20], [7, 6]).seed(11) * 2.0;
    let v = x.compute().unwrap();
    let n = v.len() as f64;
    let mean = v.sum() / n;
    let std = (v.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / n).sqrt();
    let s = x.stats().unwrap();
    assert_eq!(s.count, 600);
    scalar(s.sum, v.sum(), "stats sum");
    scalar(s.mean, mean, "stats mean");
    scalar(s.std, std, "stats std");
    assert_eq!((s.min, s.max), (v.fold(f64::INFINITY, |a, &b| a.min(b)), v.fold(f64::NEG_INFINITY, |a, &b| a.max(b))));
    assert_eq!(s.mean.to_bits(), x.mean().unwrap().to_bits(), "stats().mean is mean(), bit for bit");
    let h = x.histogram(10, None).unwrap();
    assert_eq!(h.counts.iter().sum::<u64>(), 600, "every value in the data's own range");
    assert_eq!(h.edges[0], s.min);
    scalar(h.edges[10], s.max, "the last edge");
    let h = x.histogram(4, Some((0.0, 4.0))).unwrap();
    let want =
        (0..4).map(|b| v.iter().filter(|&&a| a >= b as f64 && (a < b as f64 + 1.0 || b == 3 && a <= 4.0)).count());
    assert_eq!(h.counts, want.map(|c| c as u64).collect::<Vec<_>>());
    assert_eq!(x.histogram(0, None).unwrap_err().kind(), ErrorKind::InvalidInput);

    // NaN as numpy: every statistic but the count; a Zarr array's are its view's.
    let dir = tempfile::tempdir().unwrap();
    let mut a = v.clone();
    a[[3, 4]] = f64::NAN;
    let z = stored(dir.path(), "nan.zarr", &a, &[8, 8]);
    let s = z.stats().unwrap();
    assert!(s.count == 600 && s.mean.is_nan() && s.min.is_nan() && s.std.is_nan(), "{s:?}");
    assert_eq!(format!("{:?}", z.stats().unwrap()), format!("{:?}", from_zarr(&z).stats().unwrap()));
    assert!(z.histogram(5, None).unwrap_err().message().contains("not a finite low <= high"));
    assert_eq!(z.histogram(5, Some((-100.0, 100.0))).unwrap().counts.iter().sum::<u64>(), 599, "NaN is in no bin");

    // A reduction of text is refused in the reduction's name, with what to do instead.
    let names = create_array(dir.path().join("s.zarr").to_str().unwrap(), &ArraySpec::new([2], [2], "string")).unwrap();
    let e = names.mean().unwrap_err();
    assert!(e.kind() == ErrorKind::InvalidInput && e.message().starts_with("mean() needs numbers"), "{e}");
    assert!(e.message().contains("z.read::<String>()"), "{e}");
}
