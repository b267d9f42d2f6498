"""install.sh on machines that lack something: it says so in its first seconds, in one line,
before building anything. (The system-wide install a fresh non-root user shares is tested in
test_kernel.py, on the prefix tests/run.sh installs with `install.sh --prefix`.)"""

import os
import shutil
import stat
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def copy_toolchain(dst):
    """The running toolchain, without lib/rustlib/src and not managed by rustup (hard links
    where the filesystem allows, so it takes a second)."""
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout.strip()
    ignore = shutil.ignore_patterns("src", "doc", "share")
    try:
        shutil.copytree(sysroot, dst, symlinks=True, ignore=ignore, copy_function=os.link)
    except OSError:
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(sysroot, dst, symlinks=True, ignore=ignore)
    assert not os.path.exists(f"{dst}/lib/rustlib/src")
    return dst


def test_a_toolchain_without_rust_src_is_refused_at_once():
    with tempfile.TemporaryDirectory() as tmp:
        tc = copy_toolchain(f"{tmp}/toolchain")
        home = f"{tmp}/home"
        os.makedirs(home)
        env = {"HOME": home, "PATH": f"{tc}/bin:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
        t0 = time.monotonic()
        r = subprocess.run([f"{ROOT}/install.sh", "--no-notebooks"], env=env, capture_output=True, text=True,
                           timeout=120)
        seconds = time.monotonic() - t0
        assert r.returncode != 0, r.stdout + r.stderr
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert "rust-src" in lines[-1] and lines[-1].startswith("install.sh: error:"), r.stderr
        assert "rustup component add rust-src" in lines[-1], lines[-1]
        assert seconds < 30, f"took {seconds:.1f} s to say so"
        assert not os.path.exists(f"{home}/.cache/zarr-kernel/server-target"), "it built something first"


def test_the_check_alone_passes_here():
    r = subprocess.run([f"{ROOT}/install.sh", "--check"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "prerequisites ok" in r.stderr, r.stderr


@pytest.mark.skipif("ZK_TEST_PREFIX" not in os.environ, reason="needs the test prefix install")
def test_a_prefix_install_is_readable_by_every_user():
    prefix = os.environ["ZK_TEST_PREFIX"]
    for path in (f"{prefix}/share/jupyter/kernels/rust-zarr", f"{prefix}/share/rust-zarr-kernel"):
        for dirpath, dirnames, filenames in os.walk(path):
            for name in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
                mode = os.lstat(name).st_mode
                if stat.S_ISLNK(mode):
                    continue
                assert mode & stat.S_IROTH, f"{name} is not readable by others ({stat.filemode(mode)})"
                if stat.S_ISDIR(mode):
                    assert mode & stat.S_IXOTH, f"{name} cannot be entered by others ({stat.filemode(mode)})"
            if dirpath.count(os.sep) - path.count(os.sep) > 2:
                dirnames[:] = []  # the template's depths are chmod'ed with the rest
