//! Zarr arrays on a real Ceph RGW (and on local disk): round trips, slices, reductions,
//! consolidated metadata, errors, plots.

mod common;
use common::*;
use ndarray::{ArrayD, Dimension, IxDyn};
use zarr_prelude::prelude::*;

fn pattern<T: Element>(shape: &[usize]) -> ArrayD<T> {
    ArrayD::from_shape_fn(IxDyn(shape), |ix| {
        let lin: usize = ix.slice().iter().fold(0, |a, &i| a * 31 + i);
        T::from_f64(
            (lin % 97) as f64 - if T::DTYPE.name().starts_with('u') || T::DTYPE == Dtype::Bool { 0.0 } else { 40.0 },
        )
    })
}

fn roundtrip<T: Element + PartialEq>(fs: &S3FileSystem, base: &str, dtype: &str) {
    let shape = [23usize, 17];
    let data = pattern::<T>(&shape);
    for (fmt, compressor) in [
        (2u8, Compressor::blosc_lz4()),
        (2, Compressor::None),
        (2, Compressor::Zlib(3)),
        (3, Compressor::Zstd(1)),
        (3, Compressor::Gzip(2)),
    ] {
        let mut spec = ArraySpec::new([23, 17], [5, 4], dtype).compressor(compressor.clone());
        if fmt == 3 {
            spec = spec.v3();
        }
        let path =
            format!("{base}/{dtype}-{fmt}-{compressor:?}").replace(['(', ')', ' ', '{', '}', ':', ',', '"'], "_");
        let z = fs.create_array(&path, &spec).unwrap();
        z.write(&data).unwrap();
        let back = fs.open_array(&path).unwrap();
        assert_eq!(back.dtype().name(), T::DTYPE.name());
        assert_eq!(back.read::<T>().unwrap(), data, "{path}");
        // A slice across chunk edges.
        let s = back.read_slice::<T>(&[3..14, 2..11]).unwrap();
        assert_eq!(s, data.slice(ndarray::s![3..14, 2..11]).into_dyn(), "{path} slice");
    }
}

#[test]
fn every_dtype_round_trips_v2_and_v3_on_s3() {
    let Some(rgw) = rgw() else { return };
    let fs = rgw.alice();
    let b = new_bucket(&fs, "dtypes");
    roundtrip::<bool>(&fs, &b, "bool");
    roundtrip::<i8>(&fs, &b, "int8");
    roundtrip::<i16>(&fs, &b, "int16");
    roundtrip::<i32>(&fs, &b, "int32");
    roundtrip::<i64>(&fs, &b, "int64");
    roundtrip::<u8>(&fs, &b, "uint8");
    roundtrip::<u16>(&fs, &b, "uint16");
    roundtrip::<u32>(&fs, &b, "uint32");
    roundtrip::<u64>(&fs, &b, "uint64");
    roundtrip::<f16>(&fs, &b, "float16");
    roundtrip::<f32>(&fs, &b, "float32");
    roundtrip::<f64>(&fs, &b, "float64");
    // Values in the array's own dtype, with no type named.
    let z = fs.create_array(&format!("{b}/values.zarr"), &ArraySpec::new([4, 3], [2, 2], "i2")).unwrap();
    z.write(&pattern::<i16>(&[4, 3])).unwrap();
    let v = z.values_slice(&[1..3, 0..3]).unwrap();
    assert_eq!((v.dtype(), v.shape()), (Dtype::Int16, &[2usize, 3][..]));
    assert_eq!(v.into_typed::<i16>().unwrap(), pattern::<i16>(&[4, 3]).slice(ndarray::s![1..3, ..]).into_dyn());
    // 0-d arrays, v2 and v3.
    for (name, spec) in
        [("v2", ArraySpec::new([0u64; 0], [0u64; 0], "f8")), ("v3", ArraySpec::new([0u64; 0], [0u64; 0], "f8").v3())]
    {
        let z = fs.create_array(&format!("{b}/scalar-{name}.zarr"), &spec).unwrap();
        z.write(&ndarray::arr0(2.5)).unwrap();
        assert_eq!(z.values().unwrap(), Values::Float64(ndarray::arr0(2.5).into_dyn()));
    }
    fs.rm_r(&b).unwrap();
}

#[test]
fn sharded_v3_and_partial_writes() {
    let Some(rgw) = rgw() else { return };
    let fs = rgw.alice();
    let b = new_bucket(&fs, "shard");
    let spec = ArraySpec::new([40, 30], [5, 5], "f8").v3().compressor(Compressor::Zstd(3)).shards([10, 15]);
    let z = fs.create_array(&format!("{b}/s.zarr"), &spec).unwrap();
    assert!(z.codecs().contains("sharding"), "{}", z.codecs());
    let data = pattern::<f64>(&[40, 30]);
    z.write(&data).unwrap();
    assert_eq!(z.read::<f64>().unwrap(), data);
    assert_eq!(fs.find(&format!("{b}/s.zarr")).unwrap().len(), 1 + 4 * 2, "zarr.json + 8 shards");

    // Partial write across chunk edges keeps the rest (read-modify-write).
    let patch = Array2::from_elem((7, 9), -1.0f64);
    z.write_slice(&[3, 4], &patch).unwrap();
    let mut expect = data.clone();
    expect.slice_mut(ndarray::s![3..10, 4..13]).fill(-1.0);
    assert_eq!(z.read::<f64>().unwrap(), expect);

    // Unwritten chunks read as the fill value.
    let z2 =
        fs.create_array(&format!("{b}/empty.zarr"), &ArraySpec::new([10], [4], "i4").fill_value(Some(-5.0))).unwrap();
    z2.write_slice(&[4], &Array1::from_vec(vec![1, 2, 3, 4])).unwrap();
    assert_eq!(z2.read::<i32>().unwrap().into_raw_vec_and_offset().0, vec![-5, -5, -5, -5, 1, 2, 3, 4, -5, -5]);
    assert_eq!(z2.nchunks_initialized().unwrap(), 1);
    fs.rm_r(&b).unwrap();
}

#[test]
fn reference_notebook_array_and_reductions_match_ndarray() {
    let Some(rgw) = rgw() else { return };
    let fs = rgw.alice();
    let b = new_bucket(&fs, "ref");
    // zarr.empty((1000, 1000), chunks=(100, 100), dtype="f4", compression=None)
    let spec = ArraySpec::new([1000, 1000], [100, 100], "f4").compressor(Compressor::None).fill_value(None);
    let z = fs.create_array(&format!("{b}/test.zarr"), &spec).unwrap();
    let report = random([1000, 1000], [100, 100]).seed(42).store(&z).unwrap();
    assert_eq!(report.chunks, 100);
    let keys = fs.ls(&format!("{b}/test.zarr")).unwrap().names();
    assert_eq!(keys.len(), 101);
    assert!(keys.contains(&format!("{b}/test.zarr/9.9")) && keys.contains(&format!("{b}/test.zarr/.zarray")));
    // Uncompressed chunks: exactly 100*100*4 bytes each.
    assert_eq!(fs.info(&format!("{b}/test.zarr/0.0")).unwrap().size, 40_000);

    let a = z.read::<f32>().unwrap().mapv(|v| v as f64);
    let stats = z.stats().unwrap();
    let n = a.len() as f64;
    let mean = a.sum() / n;
    let std = (a.mapv(|v| (v - mean).powi(2)).sum() / n).sqrt();
    assert_eq!(stats.count, 1_000_000);
    assert!((stats.mean - mean).abs() < 1e-12, "{} vs {mean}", stats.mean);
    assert_eq!(z.mean().unwrap(), stats.mean, "mean() and stats().mean are the same number");
    assert_eq!(z.sum().unwrap(), stats.sum);
    assert!((stats.std - std).abs() < 1e-9);
    assert_eq!(stats.min, a.iter().copied().fold(f64::INFINITY, f64::min));
    assert_eq!(stats.max, a.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    assert!((0.49..0.51).contains(&stats.mean) && stats.min >= 0.0 && stats.max < 1.0);
    assert!((z.sum().unwrap() - a.sum()).abs() < 1e-6);
    // Partials merge in chunk order: the same data gives the same bits, whatever the timing.
    for _ in 0..5 {
        assert_eq!(z.stats().unwrap(), stats);
    }
    let h = z.histogram(10, Some((0.0, 1.0))).unwrap();
    assert_eq!(h.counts.iter().sum::<u64>(), 1_000_000);
    assert!(h.counts.iter().all(|&c| (95_000..105_000).contains(&c)), "{:?}", h.counts);

    // Same seed, same data; the generator can also be computed in memory.
    let again = random([1000, 1000], [100, 100]).seed(42).compute().unwrap();
    assert!(again.iter().zip(a.iter()).all(|(x, y)| (*x as f32) as f64 == *y));

    // Normal and from_fn generators, into other dtypes.
    let zn = fs.create_array(&format!("{b}/n.zarr"), &ArraySpec::new([300, 300], [64, 64], "f8")).unwrap();
    normal(10.0, 2.0, [300, 300], [64, 64]).seed(1).store(&zn).unwrap();
    let s = zn.stats().unwrap();
    assert!((s.mean - 10.0).abs() < 0.05 && (s.std - 2.0).abs() < 0.05, "{s}");
    let zi = fs.create_array(&format!("{b}/i.zarr"), &ArraySpec::new([50, 7], [8, 3], "i4").v3()).unwrap();
    from_fn([50, 7], [8, 3], |ix| (ix[0] * 10 + ix[1]) as f64).store(&zi).unwrap();
    assert_eq!(zi.read::<i32>().unwrap()[[49, 6]], 496);
    assert_eq!(zi.max().unwrap(), 496.0);
    fs.rm_r(&b).unwrap();
}

#[test]
fn groups_attributes_and_consolidated_metadata() {
    let Some(rgw) = rgw() else { return };
    let fs = rgw.alice();
    let b = new_bucket(&fs, "grp");
    let g = fs.create_group(&format!("{b}/g.zarr"), 2).unwrap();
    let mut t = g.create_array("temp", &ArraySpec::new([4, 4], [2, 2], "f4").attrs(json!({"units": "K"}))).unwrap();
    g.create_array("mask", &ArraySpec::new([4], [4], "bool")).unwrap();
    g.create_group("sub").unwrap();
    let (arrays, groups) = g.members().unwrap();
    assert_eq!(arrays, vec!["mask", "temp"]);
    assert_eq!(groups, vec!["sub"]);
    assert_eq!(g.open_array("temp").unwrap().attrs()["units"], "K");
    t.set_attrs(json!({"units": "degC", "long_name": "temperature"})).unwrap();
    assert_eq!(fs.open_group(&format!("{b}/g.zarr")).unwrap().open_array("temp").unwrap().attrs()["units"], "degC");

    assert_eq!(g.consolidate_metadata().unwrap(), 5, ".zgroup x2, .zarray x2, .zattrs");
    let zmeta: serde_json::Value = serde_json::from_slice(&fs.cat(&format!("{b}/g.zarr/.zmetadata")).unwrap()).unwrap();
    assert_eq!(zmeta["zarr_consolidated_format"], 1);
    assert_eq!(zmeta["metadata"]["temp/.zattrs"]["long_name"], "temperature");
    assert_eq!(zmeta["metadata"]["mask/.zarray"]["dtype"], "|b1");

    // v3 groups too.
    let g3 = fs.create_group(&format!("{b}/g3.zarr"), 3).unwrap();
    g3.create_array("x", &ArraySpec::new([3], [3], "u2").v3()).unwrap();
    assert_eq!(fs.open_group(&format!("{b}/g3.zarr")).unwrap().members().unwrap().0, vec!["x"]);
    let e = fs.open_array(&format!("{b}/g3.zarr")).unwrap_err();
    assert!(e.message().contains("open_group"), "{e}");
    fs.rm_r(&b).unwrap();
}

#[test]
fn bad_input_errors_name_the_fix() {
    let Some(rgw) = rgw() else { return };
    let fs = rgw.alice();
    let b = new_bucket(&fs, "bad");
    let z = fs.create_array(&format!("{b}/a.zarr"), &ArraySpec::new([10, 10], [5, 5], "f4")).unwrap();

    // Another numeric type converts, like numpy's astype, both ways.
    let c = fs.create_array(&format!("{b}/conv.zarr"), &ArraySpec::new([10, 10], [5, 5], "f4")).unwrap();
    c.write(&Array2::<f64>::from_shape_fn((10, 10), |(i, j)| i as f64 + 0.25 * j as f64 + 1e-9)).unwrap();
    let f = c.read::<f32>().unwrap();
    assert_eq!(c.read::<f64>().unwrap(), f.mapv(|v| v as f64), "f32 stored, read as f64");
    assert_eq!(f[[3, 2]], 3.5f32);
    assert_eq!(c.read_slice::<i16>(&[3..4, 2..3]).unwrap()[[0, 0]], 3, "floats truncate to integers");
    assert!(c.read_slice::<bool>(&[0..1, 0..1]).unwrap()[[0, 0]], "1e-9 is non-zero");
    let e = z.read_slice::<f32>(&[0..11, 0..2]).unwrap_err();
    assert!(e.message().contains("out of bounds"), "{e}");
    let e = z.write(&Array2::<f32>::zeros((3, 3))).unwrap_err();
    assert!(e.message().contains("shapes must match"), "{e}");
    let e = z.write_slice(&[8, 8], &Array2::<f32>::zeros((3, 3))).unwrap_err();
    assert!(e.message().contains("does not fit"), "{e}");
    assert_eq!(fs.find(&format!("{b}/a.zarr")).unwrap().len(), 1, "rejected writes wrote no chunk");
    let e = fs.create_array(&format!("{b}/a.zarr"), &ArraySpec::new([1], [1], "f4")).unwrap_err();
    assert!(e.message().contains("overwrite(true)"), "{e}");
    assert!(fs.create_array(&format!("{b}/a.zarr"), &ArraySpec::new([1], [1], "f4").overwrite(true)).is_ok());
    assert_eq!(fs.find(&format!("{b}/a.zarr")).unwrap().len(), 1, "overwrite cleared old chunks");
    let e = fs.create_array(&format!("{b}/x.zarr"), &ArraySpec::new([10], [5], "complex256")).unwrap_err();
    assert!(e.message().contains("unknown dtype 'complex256'"), "{e}");
    assert!(!fs.exists(&format!("{b}/x.zarr")).unwrap(), "nothing written for a bad spec");

    fs.pipe(&format!("{b}/corrupt.zarr/.zarray"), b"{\"zarr_format\": 2, \"shape\": [").unwrap();
    let e = fs.open_array(&format!("{b}/corrupt.zarr")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Metadata);
    assert!(e.message().contains(&format!("corrupt Zarr metadata at s3://{b}/corrupt.zarr/.zarray")), "{e}");

    fs.pipe(&format!("{b}/corrupt3.zarr/zarr.json"), b"{\"zarr_format\": 3, \"node_type\": \"array\"").unwrap();
    let e = fs.open_array(&format!("{b}/corrupt3.zarr")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Metadata, "{e}");
    assert!(e.message().contains(&format!("s3://{b}/corrupt3.zarr/zarr.json")), "{e}");

    fs.pipe(&format!("{b}/codec.zarr/.zarray"), br#"{"chunks":[2],"compressor":{"id":"zfpy"},"dtype":"<f4","fill_value":0,"filters":null,"order":"C","shape":[4],"zarr_format":2}"#).unwrap();
    let e = fs.open_array(&format!("{b}/codec.zarr")).unwrap_err();
    assert!(e.message().contains("codec") && e.message().contains("lz4, lzma, delta, quantize, bitround"), "{e}");

    let t = fs
        .create_array(&format!("{b}/t.zarr"), &ArraySpec::new([4], [2], "f8").compressor(Compressor::Zstd(1)))
        .unwrap();
    t.write(&Array1::from_vec(vec![1.0, 2.0, 3.0, 4.0])).unwrap();
    fs.pipe(&format!("{b}/t.zarr/1"), b"garbage").unwrap();
    let e = t.read::<f64>().unwrap_err();
    assert!(e.message().contains("chunk 1 of") && e.message().contains("truncated"), "{e}");
    let e = t.mean().unwrap_err();
    assert!(e.message().contains("chunk 1 of") && e.message().contains("truncated"), "{e}");
    assert_eq!(e.kind(), ErrorKind::Codec);

    let e = fs.open_array(&format!("{b}/nothing.zarr")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    fs.rm_r(&b).unwrap();
}

#[test]
fn local_directory_store_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("local.zarr").display().to_string();
    let z = create_array(&url, &ArraySpec::new([60, 80], [16, 16], "f4")).unwrap();
    random([60, 80], [16, 16]).seed(3).store(&z).unwrap();
    assert!(dir.path().join("local.zarr/.zarray").exists() && dir.path().join("local.zarr/3.4").exists());
    let back = open_array(&url).unwrap();
    let a = back.read::<f32>().unwrap();
    assert_eq!(a.shape(), &[60, 80]);
    assert!(back.to_string().contains("[60, 80]"));

    let fig = imshow(&a).unwrap();
    assert_eq!(&fig.png()[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(u32::from_be_bytes(fig.png()[16..20].try_into().unwrap()), 640);
    assert_eq!(u32::from_be_bytes(fig.png()[20..24].try_into().unwrap()), 480);
    let opts = PlotOptions { width: 300, height: 200, ..PlotOptions::title("slice") };
    let fig = imshow_with(&a.slice(ndarray::s![0..10, ..]), &opts).unwrap();
    assert_eq!((fig.width(), fig.height()), (300, 200));
    assert!(imshow(&ArrayD::<f32>::zeros(IxDyn(&[2, 2, 2]))).unwrap_err().message().contains("2-D"));
    let line_fig = line(&[1.0, 3.0, 2.0]).unwrap();
    assert_eq!(&line_fig.png()[1..4], b"PNG");
    let h = back.histogram(20, None).unwrap();
    assert_eq!(h.counts.iter().sum::<u64>(), 4800);
    assert_eq!(&hist_counts(&h, "h").unwrap().png()[1..4], b"PNG");
    fig.save(dir.path().join("f.png")).unwrap();
    assert!(open_array(&dir.path().join("none").display().to_string()).unwrap_err().message().contains("no directory"));
}
