"""On a shared machine (a login node, a Slurm head node) no other local user can steer a kernel.

The kernel builds cells in a work directory, and cargo reads .cargo/config.toml from every
directory above the one it runs in; such a file can name a linker, a program cargo then runs as
the kernel's user. So work directories live in a per-user root only that user can write, below
directories only that user and root can write (kernel/private-dirs.sh), and the launcher refuses,
in one line, a root that another user made, a symlink, a loose mode or a parent others can write.

As root and as a fresh non-root user: the refusals (the launcher alone: its checks come before
the server starts), then a whole kernel with another user's hostile configs in /tmp (where work
directories used to be) and in the notebook's directory, a symlink planted where the old work
root was and re-pointed after the start, and cells including a `:dep`: the hostile linker never
runs and nothing lands in the other user's directories."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="needs root to create a second and a third user")

PREFIX = os.environ.get("ZK_TEST_PREFIX", "/opt/rust-zarr-kernel-test")
DATA = f"{PREFIX}/share/rust-zarr-kernel"
VICTIM, OTHER = "zkvictim", "zkother"


def user(name):
    subprocess.run(["sh", "-c", f"id {name} >/dev/null 2>&1 || useradd -M -s /bin/sh {name}"], check=True)
    return int(subprocess.run(["id", "-u", name], capture_output=True, text=True, check=True).stdout)


@pytest.fixture(scope="module")
def people():
    return {"root": 0, VICTIM: user(VICTIM), OTHER: user(OTHER)}


def home_for(who, uid):
    """A fresh home below /home (only root writes /home), as a new user gets."""
    if who == "root":
        return "/root"
    home = tempfile.mkdtemp(prefix=f"zk-{who}.", dir="/home")
    os.chown(home, uid, uid)
    return home


def launch(who, env, cwd="/"):
    """launch.sh as `who` with only `env`: (exit status, stderr)."""
    base = {"PATH": "/usr/bin:/bin", "USER": who}
    cmd = ["env", "-i", *[f"{k}={v}" for k, v in {**base, **env}.items()], f"{DATA}/launch.sh", "/nonexistent.json"]
    if who != "root":
        cmd = ["runuser", "-u", who, "--", *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=cwd)
    return r.returncode, r.stderr


def refused(who, env, *words):
    rc, err = launch(who, env)
    assert rc == 1 and err.count("\n") == 1, err
    assert err.startswith("Rust (Zarr) kernel cannot start: "), err
    for w in words:
        assert w in err, (w, err)
    return err


def accepted(who, env):
    """Past every check: only the (made-up) connection file is missing."""
    rc, err = launch(who, env)
    assert "cannot read the connection file /nonexistent.json" in err, err


def owned_by(path, uid, mode):
    os.chown(path, uid, uid, follow_symlinks=False)
    if not os.path.islink(path):
        os.chmod(path, mode)


@pytest.mark.parametrize("who", ["root", VICTIM])
def test_the_launcher_refuses_what_others_control(people, who, tmp_path):
    me, other = people[who], people[OTHER]
    home = home_for(who, me)
    place = Path(tempfile.mkdtemp(prefix="zk-place.", dir="/srv" if os.path.isdir("/srv") else "/var"))
    place.chmod(0o755)
    try:
        # A root made by another user, open to all (the old /tmp/rust-zarr-kernel-UID takeover).
        taken = place / "taken"
        taken.mkdir()
        owned_by(taken, other, 0o777)
        refused(who, {"HOME": home, "ZK_RUN_DIR": str(taken)}, str(taken), f"belongs to {OTHER}", "remove it")
        # A symlink another user planted, pointing to a directory of ours.
        mine = place / "mine"
        mine.mkdir()
        owned_by(mine, me, 0o700)
        link = place / "link"
        link.symlink_to(mine)
        owned_by(link, other, 0)
        refused(who, {"HOME": home, "ZK_RUN_DIR": str(link)}, str(link), "is a symbolic link")
        # Ours, but others may have written into it.
        loose = place / "loose"
        loose.mkdir()
        owned_by(loose, me, 0o755)
        refused(who, {"HOME": home, "ZK_RUN_DIR": str(loose)}, "has mode 755", f"chmod 700 {loose}")
        # A parent other users can write (a home in /tmp): cargo would read their /tmp/.cargo.
        tmp_home = tempfile.mkdtemp(prefix="zk-home.", dir="/tmp")
        os.chown(tmp_home, me, me)
        refused(who, {"HOME": tmp_home}, "/tmp is writable by other users", "/tmp/.cargo/config.toml", "ZK_RUN_DIR")
        shutil.rmtree(tmp_home)
        # A parent writable by a group with another member in it.
        shared = place / "shared"
        shared.mkdir()
        os.chown(shared, 0, other)
        os.chmod(shared, 0o775)
        run = shared / "run"
        run.mkdir()
        owned_by(run, me, 0o700)
        refused(who, {"HOME": home, "ZK_RUN_DIR": str(run)}, f"{shared} is writable by other users")
        # A parent only we can write, but with another user's .cargo in it.
        parent = place / "parent"
        (parent / ".cargo").mkdir(parents=True)
        owned_by(parent, me, 0o755)
        owned_by(parent / ".cargo", other, 0o755)
        (parent / "run").mkdir()
        owned_by(parent / "run", me, 0o700)
        refused(who, {"HOME": home, "ZK_RUN_DIR": str(parent / "run")}, f"{parent}/.cargo belongs to")
        # XDG_RUNTIME_DIR of another user is not used: the cache in our home is.
        xdg = place / "xdg"
        xdg.mkdir()
        owned_by(xdg, other, 0o700)
        accepted(who, {"HOME": home, "XDG_RUNTIME_DIR": str(xdg)})
        assert not any(xdg.iterdir())
        assert (Path(home) / ".cache" / "rust-zarr-kernel").is_dir()
        # Our own XDG_RUNTIME_DIR is.
        own_xdg = place / "own-xdg"
        own_xdg.mkdir()
        owned_by(own_xdg, me, 0o700)
        accepted(who, {"HOME": home, "XDG_RUNTIME_DIR": str(own_xdg)})
        assert (own_xdg / "rust-zarr-kernel").is_dir()
    finally:
        shutil.rmtree(place)
        if who != "root":
            shutil.rmtree(home)


DRIVER = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from jupyter_driver import Session
sync = sys.argv[2]
out = {}
with Session("rust-zarr") as s:
    r = s.run('println!("{}", std::env::var("EVCXR_TMPDIR")?);')
    out["work"], out["first_ok"] = r.stdout.strip(), r.ok()
    # The other user re-points their symlink now; then cargo runs (a `:dep`).
    open(os.path.join(sync, "ready"), "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(sync, "go")) and time.monotonic() < deadline:
        time.sleep(0.05)
    r = s.run(':dep itoa = "1"')
    out["dep"] = r.text
    r = s.run('println!("{}", itoa::Buffer::new().format(42));')
    out["itoa"], out["itoa_text"] = r.stdout.strip(), r.text
print(json.dumps(out))
"""


@pytest.mark.parametrize("who", ["root", VICTIM])
def test_a_kernel_is_not_steered_by_other_users_files(people, who, tmp_path):
    me, other = people[who], people[OTHER]
    if os.path.lexists("/tmp/.cargo"):
        pytest.fail("/tmp/.cargo exists already: this test plants (and removes) a hostile one there")
    home = home_for(who, me)
    evil = Path(tempfile.mkdtemp(prefix="zk-evil.", dir="/tmp"))
    marker = evil / "linker-ran"
    notebook = Path(tempfile.mkdtemp(prefix="zk-notebook.", dir="/tmp"))
    old_root = Path(f"/tmp/rust-zarr-kernel-{me}")
    aside = Path(f"{old_root}.zk-test-aside")
    planted = []
    try:
        # The other user's linker and rustc wrapper: each leaves a mark, then does its job.
        linker, wrapper = evil / "linker.sh", evil / "wrapper.sh"
        linker.write_text(f"#!/bin/sh\ntouch {marker}\nexec cc \"$@\"\n")
        wrapper.write_text(f"#!/bin/sh\ntouch {marker}\nexec \"$@\"\n")
        config = f'[target.x86_64-unknown-linux-gnu]\nlinker = "{linker}"\n[build]\nrustc-wrapper = "{wrapper}"\n'
        for d in (Path("/tmp"), notebook):
            (d / ".cargo").mkdir()
            (d / ".cargo" / "config.toml").write_text(config)
            planted.append(d / ".cargo")
            for p in (d / ".cargo", d / ".cargo" / "config.toml"):
                owned_by(p, other, 0o777)
        for p in (evil, linker, wrapper, notebook):
            owned_by(p, other, 0o777)
        # Where the old launcher put work dirs: a symlink to the other user's directory, to be
        # re-pointed to another of theirs after the kernel started.
        first, second = evil / "first", evil / "second"
        for d in (first, second):
            d.mkdir()
            owned_by(d, other, 0o777)
        if os.path.lexists(old_root):  # an older version's work root: set aside, put back after
            assert os.lstat(old_root).st_uid == me, f"{old_root} exists and is not {who}'s"
            os.rename(old_root, aside)
        old_root.symlink_to(first)
        Path(str(old_root) + ".next").symlink_to(second)
        planted += [old_root]
        for p in (old_root, Path(str(old_root) + ".next")):
            owned_by(p, other, 0)
        sync = Path(tempfile.mkdtemp(prefix="zk-sync.", dir="/tmp"))
        planted.append(sync)
        driver = sync / "driver.py"
        driver.write_text(DRIVER)
        owned_by(sync, me, 0o700)
        owned_by(driver, me, 0o600)
        env = ["env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin", f"USER={who}", f"JUPYTER_PATH={PREFIX}/share/jupyter"]
        cmd = [*env, f"{PREFIX}/venv/bin/python", str(driver), DATA, str(sync)]
        if who != "root":
            cmd = ["runuser", "-u", who, "--", *cmd]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=notebook)
        try:
            deadline = time.monotonic() + 300
            while not (sync / "ready").exists():
                if p.poll() is not None or time.monotonic() > deadline:
                    p.kill()
                    out, err = p.communicate()
                    pytest.fail(f"the first cell did not finish: {out[-2000:]} {err[-3000:]}")
                time.sleep(0.05)
            os.rename(str(old_root) + ".next", old_root)  # the other user re-points their symlink
            (sync / "go").touch()
            stdout, stderr = p.communicate(timeout=900)
        finally:
            if p.poll() is None:
                p.kill()
        assert p.returncode == 0, stdout[-3000:] + stderr[-3000:]
        out = json.loads(stdout.strip().splitlines()[-1])
        assert out["first_ok"], out
        assert out["work"].startswith(f"{home}/.cache/rust-zarr-kernel/k."), out
        assert out["itoa"] == "42", out
        assert not marker.exists(), "the other user's linker ran as the kernel's user"
        assert not any(first.iterdir()) and not any(second.iterdir()), "cell files landed in the other user's dir"
    finally:
        for p in planted:
            if p.is_symlink() or p.is_file():
                p.unlink()
            elif p.exists():
                shutil.rmtree(p)
        for p in (Path(str(old_root) + ".next"),):
            if p.is_symlink():
                p.unlink()
        if os.path.lexists(aside) and not os.path.lexists(old_root):
            os.rename(aside, old_root)
        shutil.rmtree(evil, ignore_errors=True)
        shutil.rmtree(notebook, ignore_errors=True)
        if who != "root":
            shutil.rmtree(home, ignore_errors=True)
