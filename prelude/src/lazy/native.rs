//! Cell libraries on their way to workers.
//!
//! In the kernel, each cell is a shared library linked to the prelude's shared library; a
//! user's function is an entry (`user_fn.rs`) compiled into the library of the cell that wrote
//! it. [`locate`] finds that library and the entry's offset in it (`dladdr`, and the load bias
//! from `dlinfo`), [`sha256`] names a library by its contents. On a worker, [`load_prelude`]
//! loads the prelude library a job names, once its hash is the kernel's (the cell library
//! needs it, and a different build would not be the code the kernel ran), then
//! [`load_library`] loads a cell library from the bytes the job shipped, once their hash is the
//! one the plan names, from a fresh private directory; [`entry`] is the function at an offset
//! in it. Nothing is loaded that the job does not name by hash.

use super::user_fn::Entry;
use std::collections::HashMap;
use std::ffi::{c_void, CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Where a worker looks for the prelude library before the path the job gives.
pub(crate) const PRELUDE_ENV: &str = "ZARR_TASK_PRELUDE";

/// A library file and its SHA-256 (hex).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Library {
    pub(crate) path: PathBuf,
    pub(crate) sha256: String,
}

/// The first field of glibc's `struct link_map` (`<link.h>`): the library's load bias.
#[repr(C)]
struct LinkMap {
    l_addr: usize,
}

fn dl_error(what: &str) -> String {
    // SAFETY: dlerror returns null or a C string valid until the next dl call on this thread.
    let e = unsafe { libc::dlerror() };
    let why = if e.is_null() { "no reason given".into() } else { unsafe { CStr::from_ptr(e) }.to_string_lossy() };
    format!("{what}: {why}")
}

fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| format!("{} has a NUL in its name", path.display()))
}

/// The load bias of the library opened as `handle`.
fn bias(handle: *mut c_void, path: &Path) -> Result<usize, String> {
    let mut map: *const LinkMap = std::ptr::null();
    // SAFETY: RTLD_DI_LINKMAP writes one pointer to the library's link_map.
    let ok = unsafe { libc::dlinfo(handle, libc::RTLD_DI_LINKMAP, (&raw mut map).cast()) };
    if ok != 0 || map.is_null() {
        return Err(dl_error(&format!("dlinfo({})", path.display())));
    }
    // SAFETY: a link_map starts with l_addr.
    Ok(unsafe { (*map).l_addr })
}

/// The shared library that holds the function at `addr` in this process, and the function's
/// offset in it; an error when the function is in the program itself (not in a library).
pub(crate) fn locate(addr: usize) -> Result<(PathBuf, u64), String> {
    // SAFETY: Dl_info is plain data that dladdr fills.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    if unsafe { libc::dladdr(addr as *const c_void, &mut info) } == 0 || info.dli_fname.is_null() {
        return Err("no loaded library holds it".into());
    }
    let path = PathBuf::from(OsStr::from_bytes(unsafe { CStr::from_ptr(info.dli_fname) }.to_bytes()));
    let exe = std::env::current_exe().ok().and_then(|e| e.canonicalize().ok());
    let library = path.file_name().is_some_and(|n| n.to_string_lossy().contains(".so"));
    if !library || path.canonicalize().ok() == exe {
        return Err(format!("it is compiled into the program {}, not into a library", path.display()));
    }
    // SAFETY: RTLD_NOLOAD only looks the library up (it is loaded: it holds `addr`).
    let handle = unsafe { libc::dlopen(c_path(&path)?.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD) };
    if handle.is_null() {
        return Err(dl_error(&format!("dlopen({})", path.display())));
    }
    let b = bias(handle, &path);
    // SAFETY: drops the reference RTLD_NOLOAD took; the library stays loaded.
    unsafe { libc::dlclose(handle) };
    Ok((path, (addr - b?) as u64))
}

/// The SHA-256 of a file, hex; computed once per path in a process (libraries do not change
/// while they are loaded).
pub(crate) fn sha256(path: &Path) -> Result<String, String> {
    static DONE: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());
    if let Some((_, h)) = DONE.lock().unwrap_or_else(|p| p.into_inner()).iter().find(|(p, _)| p == path) {
        return Ok(h.clone());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let h = sha256_of(&bytes);
    DONE.lock().unwrap_or_else(|p| p.into_inner()).push((path.to_path_buf(), h.clone()));
    Ok(h)
}

/// The SHA-256 of bytes, hex.
pub(crate) fn sha256_of(bytes: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The prelude library this process runs cells against (the kernel's), with its hash.
pub(crate) fn this_prelude() -> Result<Library, String> {
    static PRELUDE: OnceLock<Result<Library, String>> = OnceLock::new();
    PRELUDE
        .get_or_init(|| {
            let (path, _) = locate(this_prelude as *const () as usize)
                .map_err(|why| format!("the prelude is not a shared library here ({why})"))?;
            // As loaded it is reached through the kernel's work directory (a cell library's
            // relative run path, `k.XXXX/tmp/target/…/../../…`), which other machines lack.
            let path = path.canonicalize().map_err(|e| format!("cannot resolve {}: {e}", path.display()))?;
            Ok(Library { sha256: sha256(&path)?, path })
        })
        .clone()
}

/// Load the prelude library of hash `want` (once per process): `$ZARR_TASK_PRELUDE` when set,
/// else `kernel_path`, the kernel's own path (a worker on the kernel's image or install).
pub(crate) fn load_prelude(kernel_path: &str, want: &str) -> Result<(), String> {
    static LOADED: Mutex<Option<String>> = Mutex::new(None);
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    match loaded.as_deref() {
        Some(h) if h == want => return Ok(()),
        Some(h) => {
            return Err(format!(
                "this worker already runs prelude build {}, not the kernel's {}",
                short(h),
                short(want)
            ))
        }
        None => {}
    }
    let path = std::env::var_os(PRELUDE_ENV).map_or_else(|| PathBuf::from(kernel_path), PathBuf::from);
    let hint =
        format!("run the workers from the kernel's install or image, or set {PRELUDE_ENV} to its libzarr_prelude.so");
    let path = path.canonicalize().map_err(|e| format!("no prelude library at {} ({e}); {hint}", path.display()))?;
    let have = sha256(&path)?;
    if have != want {
        return Err(format!(
            "the prelude library {} is build {}, not the kernel's {}; {hint}",
            path.display(),
            short(&have),
            short(want)
        ));
    }
    // SAFETY: a library whose hash is the one the kernel runs; its constructors are the
    // prelude's (codec registration; the kernel hooks stay off outside a kernel).
    let handle = unsafe { libc::dlopen(c_path(&path)?.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if handle.is_null() {
        return Err(dl_error(&format!("cannot load the prelude library {}", path.display())));
    }
    *loaded = Some(have);
    Ok(())
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// The load bias of each cell library loaded here, by hash.
fn libraries() -> &'static Mutex<HashMap<String, usize>> {
    static LIBS: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    LIBS.get_or_init(Mutex::default)
}

/// Whether the library of this hash is loaded here already.
pub(crate) fn is_loaded(sha: &str) -> bool {
    libraries().lock().unwrap_or_else(|p| p.into_inner()).contains_key(sha)
}

/// Load the cell library `bytes` (after [`load_prelude`]), once its hash is `want`: written to
/// a new private directory, opened, then removed (the mapping stays).
pub(crate) fn load_library(want: &str, bytes: &[u8]) -> Result<(), String> {
    let mut libs = libraries().lock().unwrap_or_else(|p| p.into_inner());
    if libs.contains_key(want) {
        return Ok(());
    }
    let have = sha256_of(bytes);
    if have != want {
        return Err(format!(
            "a cell library's hash is {}, not {} as the job says; not loaded",
            short(&have),
            short(want)
        ));
    }
    let dir = private_dir()?;
    let path = dir.join(format!("{}.so", short(want)));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o700)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, bytes));
    let opened = written.map_err(|e| format!("cannot write {}: {e}", path.display())).and_then(|()| {
        // SAFETY: the library the kernel compiled for this job, checked by hash.
        let h = unsafe { libc::dlopen(c_path(&path)?.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if h.is_null() {
            Err(dl_error(&format!("cannot load a cell library ({})", short(want))))
        } else {
            bias(h, &path)
        }
    });
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir(&dir);
    libs.insert(want.to_string(), opened?);
    Ok(())
}

/// A new directory only this user can enter (mkdtemp: 0700, never an existing one).
fn private_dir() -> Result<PathBuf, String> {
    let template = std::env::temp_dir().join("zarr-task-lib.XXXXXX");
    let mut raw = c_path(&template)?.into_bytes_with_nul();
    // SAFETY: a writable NUL-terminated template ending in XXXXXX.
    if unsafe { libc::mkdtemp(raw.as_mut_ptr().cast()) }.is_null() {
        return Err(format!(
            "cannot make a directory like {}: {}",
            template.display(),
            std::io::Error::last_os_error()
        ));
    }
    raw.pop();
    Ok(PathBuf::from(OsStr::from_bytes(&raw)))
}

/// The entry at `offset` in the cell library of hash `sha`, loaded before.
pub(crate) fn entry(sha: &str, offset: u64) -> Result<Entry, String> {
    let bias = *libraries()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(sha)
        .ok_or_else(|| format!("the cell library {} was not loaded", short(sha)))?;
    let addr = bias + offset as usize;
    // SAFETY: the address of an entry in a library whose hash is the one the kernel took the
    // offset in (`locate`), so the same function.
    Ok(unsafe { std::mem::transmute::<usize, Entry>(addr) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_locations() {
        assert_eq!(sha256_of(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        // A test binary is a program, not a library: its functions cannot be shipped.
        let e = locate(hashes_and_locations as *const () as usize).unwrap_err();
        assert!(e.contains("compiled into the program"), "{e}");
        assert!(this_prelude().unwrap_err().starts_with("the prelude is not a shared library here"));
        // A library's functions are found at their offset.
        let (path, offset) = locate(libc::dlopen as *const () as usize).unwrap();
        assert!(path.to_string_lossy().contains("libc.so"), "{path:?}");
        assert!(offset > 0);
    }

    #[test]
    fn a_library_whose_hash_differs_is_not_loaded() {
        let e = load_library(&sha256_of(b"other"), b"\x7fELF not really").unwrap_err();
        assert!(e.contains("not loaded"), "{e}");
        assert!(entry("0000", 0).is_err());
    }
}
