//! Datasets in a local directory: build, write (v2 and v3), reopen, select, reduce, plot,
//! and the one-line errors. The comparison with xarray itself is tests/python/test_datasets.py.

use zarr_prelude::prelude::*;

/// 12 days (360-day calendar) x 4 latitudes (ascending) x 5 longitudes; value = 100 t + 10 y + x,
/// NaN at (t=0, y=0, x=0).
fn sample() -> Dataset {
    let data = ArrayD::from_shape_fn(IxDyn(&[12, 4, 5]), |ix| {
        if ix[0] + ix[1] + ix[2] == 0 {
            f64::NAN
        } else {
            (100 * ix[0] + 10 * ix[1] + ix[2]) as f64
        }
    });
    Dataset::new()
        .with_attrs(json!({"title": "sample"}))
        .with_coord(
            "time",
            (0..12).map(|d| d as f64 * 5.0).collect(),
            json!({"units": "days since 2001-01-01", "calendar": "360_day"}),
        )
        .with_coord("lat", vec![-30.0, -10.0, 10.0, 30.0], json!({"units": "degrees_north"}))
        .with_coord("lon", vec![0.0, 10.0, 20.0, 30.0, 40.0], json!({"units": "degrees_east"}))
        .with_var("v", &["time", "lat", "lon"], LazyArray::from_array(data).rechunk([4, 4, 5]), json!({"units": "K"}))
        .encoding("v", Encoding::packed("i2", 0.5, 0.0))
}

#[test]
fn write_reopen_select_reduce_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    for v3 in [false, true] {
        let url = dir.path().join(format!("s{v3}.zarr")).display().to_string();
        let g = if v3 { sample().to_zarr_v3(&url) } else { sample().to_zarr(&url) }.unwrap();
        assert_eq!(g.zarr_format(), if v3 { 3 } else { 2 });
        let ds = open_dataset(&url).unwrap();
        assert_eq!(ds.dims(), vec![("time", 12), ("lat", 4), ("lon", 5)]);
        assert_eq!(ds.data_vars(), vec!["v"]);
        assert!(ds.problems().is_empty(), "{:?}", ds.problems());
        let text = ds.to_string();
        assert!(text.starts_with(&format!("Dataset {url} (time: 12, lat: 4, lon: 5), consolidated")), "{text}");
        assert!(text.contains("* time (time) datetime (360_day) 2001-01-01 … 2001-02-26"), "{text}");
        let v = ds.var("v").unwrap();
        assert_eq!(v.units(), Some("K"));
        assert!(v.compute().unwrap()[[0, 0, 0]].is_nan());
        assert_eq!(v.compute().unwrap()[[3, 2, 1]], 321.0);

        // Labels: a 360-day February has a 30th; ranges include both ends.
        let feb = v.sel("time", "2001-02").unwrap();
        assert_eq!(feb.shape(), &[6, 4, 5]);
        assert_eq!(feb.coord("time").unwrap().label(5), "2001-02-26");
        assert_eq!(v.sel("time", "2001-01-06".."2001-01-16").unwrap().shape()[0], 3);
        let north = v.sel("lat", 10.0..30.0).unwrap().sel("lon", 10.0..=30.0).unwrap();
        assert_eq!(north.shape(), &[12, 2, 3]);
        let point = v.sel_nearest("lat", 12.0).unwrap().isel("lon", 4).unwrap();
        assert_eq!(point.dims(), vec!["time"]);
        assert_eq!(point.coords().iter().filter(|c| c.dim().is_none()).count(), 2);
        assert_eq!(
            point.compute().unwrap().iter().copied().collect::<Vec<_>>(),
            (0..12).map(|t| (100 * t + 24) as f64).collect::<Vec<_>>()
        );

        // The whole dataset, like ds.sel(...): every variable and the coordinate.
        let sub = ds.sel("lat", 0.0..40.0).unwrap().isel("time", 2).unwrap();
        assert_eq!(sub.dims(), vec![("lat", 2), ("lon", 5)]);
        assert_eq!(sub.coord("lat").unwrap().values(), &[10.0, 30.0]);
        assert_eq!(sub.coord("time").unwrap().dim(), None);
        assert_eq!(sub.var("v").unwrap().compute().unwrap()[[1, 4]], 234.0);
        assert!(ds.sel("depth", 0.0..1.0).unwrap_err().message().contains("no dimension 'depth'"));

        // Reductions skip NaN.
        let mean_t = v.mean_dim("time").unwrap();
        assert_eq!(mean_t.dims(), vec!["lat", "lon"]);
        assert_eq!(mean_t.compute().unwrap()[[0, 0]], (1..12).map(|t| 100.0 * t as f64).sum::<f64>() / 11.0);
        assert_eq!(v.isel("time", 0).unwrap().count().unwrap(), 19.0);
        let celsius = &v - 273.15;
        assert_eq!(celsius.compute().unwrap()[[3, 2, 1]], 321.0 - 273.15);
        assert!(celsius.attrs().is_empty() && celsius.dims() == v.dims());
        let anomaly = v.sub(&mean_t).unwrap();
        assert!(anomaly.mean().unwrap().abs() < 1e-9);

        // Raw: the packed int16 numbers, the fill value as data.
        let raw = ds.decode_cf(false).unwrap().var("v").unwrap();
        assert_eq!(raw.compute().unwrap()[[0, 0, 0]], -32767.0);
        assert_eq!(raw.compute().unwrap()[[3, 2, 1]], 642.0);
        assert!(raw.attrs().contains_key("scale_factor"));

        // A figure with coordinate axes and a labelled colorbar.
        let fig = mean_t.plot().unwrap();
        assert!(fig.png().len() > 1000);
        assert!(point.plot().unwrap().png().len() > 1000);
        assert!(v.plot().unwrap_err().message().contains("select (isel/sel) or reduce"));
    }
}

#[test]
fn bad_selections_and_builds_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("s.zarr").display().to_string();
    sample().to_zarr(&url).unwrap();
    let v = open_dataset(&url).unwrap().var("v").unwrap();
    let e = v.sel("depth", 0.0..1.0).unwrap_err();
    assert!(e.message().contains("no dimension 'depth'"), "{e}");
    let e = v.sel("lat", 11.0).unwrap_err();
    assert!(e.message().contains("nearest is 10") && e.message().contains("sel_nearest"), "{e}");
    let e = v.sel("time", "2001-13").unwrap_err();
    assert!(e.message().contains("month out of 1-12"), "{e}");
    let e = v.sel("lat", "north").unwrap_err();
    assert!(e.message().contains("holds numbers, not dates"), "{e}");
    assert!(v.isel("lon", 5).unwrap_err().message().contains("out of range for 'lon' of length 5"));

    // Writing over a dataset needs overwrite(true); a build error is named when writing.
    let e = sample().to_zarr(&url).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    sample().overwrite(true).to_zarr(&url).unwrap();
    let bad = Dataset::new().with_coord("x", vec![1.0, 2.0], json!({})).with_var(
        "y",
        &["x"],
        ArrayD::zeros(IxDyn(&[3])),
        json!({}),
    );
    let e = bad.to_zarr(&dir.path().join("bad.zarr").display().to_string()).unwrap_err();
    assert!(e.message().contains("dimension 'x' already has length 2"), "{e}");
    let ds = open_dataset(&url).unwrap();
    assert!(ds.var("w").unwrap_err().message().contains("its variables are [\"v\"]"));
}

#[test]
fn squeeze_and_index_axis_are_lazy_and_serializable() {
    let x = from_fn([3, 4, 5], [2, 2, 5], |i| (i[0] * 100 + i[1] * 10 + i[2]) as f64);
    let row = x.index_axis(1, 2);
    assert_eq!(row.shape(), &[3, 5]);
    assert_eq!(row.chunks(), &[2, 5]);
    assert_eq!(row.compute().unwrap()[[2, 3]], 223.0);
    assert!(row.plan().contains("squeeze axes [1]"));
    let z = full(1.0, [3, 4], [3, 4]).round().masked_equal(7.0).fillna(2.0);
    let back = LazyArray::from_json(&z.slice(&[1..2, 0..4]).squeeze(&[0]).to_json().unwrap()).unwrap();
    assert_eq!(back.shape(), &[4]);
    assert_eq!(back.compute().unwrap().iter().copied().collect::<Vec<_>>(), vec![1.0; 4]);
    let masked = x.masked_equal(223.0).fillna(-1.0).compute().unwrap();
    assert_eq!((masked[[2, 2, 3]], masked[[2, 2, 4]]), (-1.0, 224.0));
    assert!(x.squeeze(&[0]).compute().unwrap_err().message().contains("length 1"));
}
