//! Peak memory of a lazy plan follows its budget, not the array: the anomaly
//! `(x - x.mean_axis(&[0])).store(&out)` of an array 10× the budget, then its rechunk into time
//! series (two passes through an intermediate array). Its own test binary, so no
//! other test's allocations share the process.

use zarr_prelude::prelude::*;

fn vm_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn an_anomaly_of_an_array_ten_times_the_budget_stays_within_budget() {
    let budget: u64 = 32 << 20;
    let (t, y, x) = (80u64, 500u64, 1000u64); // 320 MB of f8: 10x the budget
    let dir = tempfile::tempdir().unwrap();
    let spec = ArraySpec::new([t, y, x], [1, y, x], "f8").compressor(Compressor::Zstd(1)).v3();
    let out = create_array(dir.path().join("anomaly.zarr").to_str().unwrap(), &spec).unwrap();
    let before = vm_kib("VmRSS:");
    let temp = uniform(-10.0, 30.0, [t, y, x], [1, y, x]).seed(7).memory_budget(budget);
    let anomaly = &temp - &temp.mean_axis(&[0]);
    anomaly.store(&out).unwrap();
    let grown_mib = (vm_kib("VmHWM:").saturating_sub(before)) as f64 / 1024.0;
    let limit_mib = (budget >> 20) as f64 + 100.0;
    assert!(grown_mib < limit_mib, "peak RSS grew by {grown_mib:.0} MiB for a 320 MB array (limit {limit_mib:.0} MiB)");
    // And the result is right where it can be checked cheaply: the anomaly's mean is ~0.
    let m = from_zarr(&out).mean().unwrap();
    assert!(m.abs() < 1e-9, "mean of the anomaly is {m}");

    // Then daily maps into time series: one pass would hold the whole array (640 MB as f64),
    // so the store goes through an intermediate array, and memory still follows the budget.
    // Writing 5 to clear_refs resets the peak (Linux >= 4.0); where it cannot, the peak
    // still covers both phases and the same limit holds.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = vm_kib("VmRSS:");
    let spec = ArraySpec::new([t, y, x], [t, 125, 125], "f8").compressor(Compressor::Zstd(1)).v3();
    let series = create_array(dir.path().join("series.zarr").to_str().unwrap(), &spec).unwrap();
    let report = from_zarr(&out).memory_budget(budget).store(&series).unwrap();
    assert!(report.intermediate.is_some(), "{report}");
    let grown_mib = (vm_kib("VmHWM:").saturating_sub(before)) as f64 / 1024.0;
    assert!(grown_mib < limit_mib, "rechunk: peak RSS grew by {grown_mib:.0} MiB (limit {limit_mib:.0} MiB)");
    let point = |z: &ZarrArray| z.read_slice::<f64>(&[0..t, 321..322, 654..655]).unwrap();
    assert_eq!(point(&series), point(&out), "a time series reads the same from both layouts");
}
