//! The kernel's interrupt, as the prelude sees it: a pipe whose read end is named in
//! `ZARR_KERNEL_INTERRUPT_FD` (here the test plays the kernel). One test in this binary, so that
//! the variable is set before the prelude first looks at it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use zarr_prelude::prelude::*;

fn pipe() -> (i32, i32) {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    for fd in fds {
        assert_eq!(unsafe { libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) }, 0);
    }
    (fds[0], fds[1])
}

fn chunk_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'))
        .count()
}

#[test]
fn an_interrupt_stops_a_store_and_leaves_no_task_writing() {
    let (read, write) = pipe();
    std::env::set_var("ZARR_KERNEL_INTERRUPT_FD", read.to_string());
    let dir = tempfile::tempdir().unwrap();
    let env = HashMap::from([
        ("HOME".to_string(), dir.path().join("home").display().to_string()),
        ("AWS_ENDPOINT_URL".to_string(), format!("file://{}", dir.path().join("s3").display())),
    ]);
    let fs = S3FileSystem::builder().env(env).build().unwrap();
    fs.mkdir("intr").unwrap();
    assert!(!interrupted() && check_interrupt().is_ok());

    // 400 chunks that take 40 ms each to compute: about 8 s with every worker busy.
    let spec = ArraySpec::new([40, 40], [2, 2], "f8").compressor(Compressor::None);
    let z = fs.create_array("intr/slow.zarr", &spec).unwrap();
    let slow = || {
        from_fn([40, 40], [2, 2], |_| {
            std::thread::sleep(Duration::from_millis(10));
            1.0
        })
    };
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(unsafe { libc::write(write, [1u8].as_ptr().cast(), 1) }, 1);
        (Instant::now(), write)
    });
    let e = slow().store(&z).unwrap_err();
    let (at, write) = interrupter.join().unwrap();
    let stopped_in = at.elapsed();
    assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");
    assert!(e.message().contains("of 400 chunks") && e.message().contains("partly written"), "{e}");
    assert!(e.message().ends_with("variables from earlier cells are kept"), "{e}");
    assert!(stopped_in < Duration::from_millis(500), "stopped {stopped_in:?} after the interrupt");
    assert!(interrupted(), "pending until the kernel clears it");
    assert_eq!(check_interrupt().unwrap_err().kind(), ErrorKind::Interrupted);

    // No chunk task outlives the call: the chunks in flight (their computation cannot be cut
    // short, and a local file write already handed to the OS completes) land or not, at once;
    // no new one starts.
    let chunks = dir.path().join("s3/intr/slow.zarr");
    let at_return = chunk_files(&chunks);
    std::thread::sleep(Duration::from_millis(300));
    let settled = chunk_files(&chunks);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(chunk_files(&chunks), settled, "chunks kept landing after the call returned");
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    assert!(settled - at_return <= workers && settled < 400, "{at_return} then {settled}");

    // The kernel clears the pipe once the cell has ended; the next store completes.
    let mut buf = [0u8; 16];
    while unsafe { libc::read(read, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    assert!(!interrupted());
    full(2.0, [40, 40], [2, 2]).store(&z).unwrap();
    assert_eq!(z.sum().unwrap(), 3200.0);

    // A lazy two-pass rechunk stops the same way, in its first pass: one line naming the pass
    // and the task count, saying the output is partly written and where the intermediate is.
    let cols = fs.create_array("intr/cols.zarr", &ArraySpec::new([40, 40], [40, 1], "f8")).unwrap();
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(unsafe { libc::write(write, [1u8].as_ptr().cast(), 1) }, 1);
        write
    });
    let e = slow().memory_budget(1).store(&cols).unwrap_err();
    let write = interrupter.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");
    let m = e.message();
    assert!(
        m.starts_with("store s3://intr/cols.zarr: rechunk 1/2 into s3://intr/cols.zarr.rechunk-tmp interrupted after "),
        "{e}"
    );
    assert!(
        m.contains(" tasks; the array is partly written")
            && m.contains("the intermediate copy s3://intr/cols.zarr.rechunk-tmp is left"),
        "{e}"
    );
    assert_eq!(m.matches("variables from earlier cells are kept").count(), 1, "{e}");
    while unsafe { libc::read(read, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    let report = full(3.0, [40, 40], [2, 2]).memory_budget(1).store(&cols).unwrap();
    assert!(report.intermediate.is_some() && !fs.exists("intr/cols.zarr.rechunk-tmp/zarr.json").unwrap(), "{report}");
    assert_eq!(cols.sum().unwrap(), 4800.0);

    // An interrupted pass returns only once the blocks it was computing are done (their chunks
    // land, or not, before the call returns): a block still computing after the return would
    // write its stale values over what an immediate re-run wrote. Blocks take 0.4 s; the
    // interrupt comes in the middle of block 1.
    static COMPUTING: AtomicUsize = AtomicUsize::new(0);
    let small = fs.create_array("intr/small.zarr", &ArraySpec::new([8, 8], [8, 1], "f8")).unwrap();
    let slow_blocks = |value: f64, per_value: u64| {
        from_fn([8, 8], [2, 2], move |_| {
            COMPUTING.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(per_value));
            COMPUTING.fetch_sub(1, Ordering::SeqCst);
            value
        })
    };
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(unsafe { libc::write(write, [1u8].as_ptr().cast(), 1) }, 1);
        write
    });
    let e = slow_blocks(1.0, 100).memory_budget(1).store(&small).unwrap_err();
    assert_eq!(COMPUTING.load(Ordering::SeqCst), 0, "a block was still computing when the call returned");
    let write = interrupter.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");
    while unsafe { libc::read(read, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    slow_blocks(3.0, 15).memory_budget(1).store(&small).unwrap();
    assert_eq!(small.sum().unwrap(), 192.0);
    unsafe { libc::close(write) };
}
