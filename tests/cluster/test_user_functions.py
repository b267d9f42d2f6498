"""Your own Rust on the workers: `map`, `map_blocks`, `from_fn`, a closure calling a function of
an earlier cell, and `map_with` parameters, written in cells of the installed kernel as a user
would, then run on Dask (a scheduler and two workers) and Slurm (three slurmd). Each result is
bit-equal to the kernel's own; a closure that captures values is refused before any job; a
worker whose prelude build differs refuses in one line."""

import os
import re
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SlurmUnavailable, dask_cluster, slurm_cluster, task_env

sys.path.insert(0, str(ROOT / "kernel"))
from jupyter_driver import Session  # noqa: E402

PREFIX = Path(os.environ.get("ZK_TEST_PREFIX", "/opt/rust-zarr-kernel-test"))
DATA = PREFIX / "share" / "rust-zarr-kernel"

FUNCTIONS = """fn kelvin(c: f64) -> f64 {
    c + 273.15
}"""

PLANS = """let x = random([300, 200], [50, 50]).seed(3);
let plans: Vec<(&str, LazyArray)> = vec![
    ("map", x.map(|v| (v * 10.0).sin() * v)),
    ("map_blocks", x.map_blocks(|b, r| b.mapv(|v| v + (r[0].start * 1000 + r[1].start) as f64))),
    ("from_fn", from_fn([300, 200], [60, 70], |i| ((i[0] * 1000 + i[1]) as f64 / 7.0).sqrt())),
    ("earlier cell", x.map(|v| kelvin(v).ln())),
    ("map_with", x.map_with((2.5, vec![0.1, 0.7]), |p, v| p.0 * v + p.1[1])),
];"""


def run_on(cluster):
    """Cells that compute every plan here and on `cluster` (a Rust expression), and store one."""
    return f"""let fs = S3FileSystem::new()?;
let bucket = format!("zk-udf-{{}}", std::process::id());
fs.mkdir(&bucket)?;
let cluster = {cluster}.scratch(&fs, &format!("{{bucket}}/scratch"));
for (name, p) in &plans {{
    let (here, there) = (p.compute()?, p.compute_on(&cluster)?);
    let same = here.shape() == there.shape() && here.iter().zip(there.iter()).all(|(a, b)| a.to_bits() == b.to_bits());
    println!("{{name}}: exact {{same}}");
}}
let m = plans[1].1.mean_axis(&[0]);
let same = m.compute()?.iter().zip(m.compute_on(&cluster)?.iter()).all(|(a, b)| a.to_bits() == b.to_bits());
println!("mean of map_blocks: exact {{same}}");
let z = fs.create_array(&format!("{{bucket}}/udf.zarr"), &ArraySpec::new([300, 200], [100, 100], "f8"))?;
plans[4].1.store_on(&cluster, &z)?;
let same = z.read::<f64>()?.iter().zip(plans[4].1.compute()?.iter()).all(|(a, b)| a.to_bits() == b.to_bits());
println!("store_on map_with: exact {{same}}; {{}}", cluster.last_run().unwrap());"""


CAPTURE = """let k = 3.0;
let y = x.map(move |v| v * k);
y.compute_on(&cluster)?;"""


def exact_everywhere(s, cluster):
    r = s.run(FUNCTIONS)
    assert r.ok(), r.text
    r = s.run(PLANS)
    assert r.ok(), r.text
    r = s.run(run_on(cluster), timeout=600)
    assert r.ok(), r.text
    for name in ("map", "map_blocks", "from_fn", "earlier cell", "map_with", "mean of map_blocks", "store_on map_with"):
        assert f"{name}: exact true" in r.stdout, r.text
    # Refused before any job: the cell's error names the capture and what to write instead.
    r = s.run(CAPTURE)
    assert not r.ok(), r.text
    assert "map's closure captures values of the cell (8 bytes)" in r.text and "map_with(params" in r.text, r.text
    assert " on Dask at " not in r.text and " on Slurm " not in r.text, r.text
    return s


# The installed runner (launch.sh's), on the workers as in the kernel.
TASK_BIN = str(DATA / "bin" / "zarr-task")


def prelude_library():
    """The installed prelude library, which cells link and workers load."""
    return next((DATA / "template" / "target").glob("*/*/deps/libzarr_prelude.so")).resolve()


def other_prelude(tmp_path):
    """Another build of the prelude library: the installed one and one more byte."""
    other = tmp_path / "libzarr_prelude.so"
    other.write_bytes(prelude_library().read_bytes() + b"\0")
    return other


def refused_in_one_line(r):
    assert not r.ok(), r.text
    line = r.text.strip().splitlines()[-1]
    assert "this worker cannot run the plan's user functions: the prelude library " in line, r.text
    assert "is build" in line and "not the kernel's" in line and "ZARR_TASK_PRELUDE" in line, r.text


def test_user_functions_on_dask_workers(tmp_path):
    procs, address = dask_cluster(tmp_path, workers=2, ZARR_TASK_BIN=TASK_BIN)
    # A worker whose prelude is another build, in a cluster of its own.
    (tmp_path / "other").mkdir()
    other, other_address = dask_cluster(tmp_path / "other", workers=1, ZARR_TASK_BIN=TASK_BIN,
                                        ZARR_TASK_PRELUDE=str(other_prelude(tmp_path)))
    try:
        with Session("rust-zarr", env=task_env(ZARR_TASK_BIN=TASK_BIN)) as s:
            exact_everywhere(s, f'DaskCluster::connect("{address}")?')
            r = s.run(f'let elsewhere = DaskCluster::connect("{other_address}")?.scratch(&fs, &format!("{{bucket}}/s2"));\n'
                      'plans[0].1.compute_on(&elsewhere)?;', timeout=600)
            refused_in_one_line(r)
    finally:
        procs.stop()
        other.stop()


def test_user_functions_on_slurm_and_a_different_prelude(tmp_path):
    try:
        procs, env = slurm_cluster(tmp_path / "slurm", ZARR_TASK_BIN=TASK_BIN)
    except SlurmUnavailable as why:
        pytest.skip(str(why))
    try:
        with Session("rust-zarr", env=env) as s:
            exact_everywhere(s, 'SlurmCluster::new().partition("p").max_parallel(3)')
            # Jobs name the prelude library by its real path, not through the kernel's private
            # work directory (which a node of the cluster does not have): read in the batch
            # scripts slurmctld keeps.
            state = Path(env["SLURM_CONF"]).parent / "state"
            scripts = b"".join(p.read_bytes() for p in state.glob("hash.*/job.*/script"))
            named = set(re.findall(rb'"prelude":\{"path":"([^"]*)"', scripts))
            assert named == {str(prelude_library()).encode()}, named
            # A worker whose prelude is another build refuses the job in one line (sbatch passes
            # the kernel's environment to the tasks).
            r = s.run(f'unsafe {{ std::env::set_var("ZARR_TASK_PRELUDE", "{other_prelude(tmp_path)}") }};\n'
                      'plans[0].1.compute_on(&cluster)?;', timeout=600)
            refused_in_one_line(r)
    finally:
        procs.stop()
