"""Build the kernel template: run the launcher once in prebuild mode (evcxr works directly in
DATA/template with the same init as at run time), so later kernels compile nothing.

    python prebuild.py DATA_DIR
"""

import sys
import time

from jupyter_driver import Session

data = sys.argv[1]
t0 = time.monotonic()
# The kernel answers at once; its engine starts in the background, running init.evcxr +
# prelude.rs: the whole dependency graph builds there (minutes), and the first cell waits for it.
with Session(argv=[f"{data}/launch.sh", "{connection_file}"], env={"ZK_PREBUILD": "1"}, ready_timeout=600) as s:
    # One cell through the whole stack (local Zarr write, read, reduce), as a user's first.
    # In the kernel's own build dir (the template), not a shared /tmp that others could fill first.
    warm = s.run('{ let dir: String = format!("{}/zk-prebuild.zarr", std::env::var("EVCXR_TMPDIR").unwrap());\n'
                 '  let z: ZarrArray = create_array(&dir, &ArraySpec::new([4, 4], [2, 2], "f4").overwrite(true))?;\n'
                 '  z.write(&Array2::<f32>::ones((4, 4)))?;\n'
                 '  println!("warm {}", z.mean()?);\n'
                 '  std::fs::remove_dir_all(&dir).ok(); }', timeout=3600)
    print(f"prebuild: dependencies built and a first cell run in {time.monotonic() - t0:.0f} s", flush=True)
    if not warm.ok() or "warm 1" not in warm.stdout:
        sys.exit(f"prebuild: the warm-up cell failed: {warm.text[-2000:]}")
print(f"prebuild: done in {time.monotonic() - t0:.0f} s", flush=True)
