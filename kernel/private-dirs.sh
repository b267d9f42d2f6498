# Sourced by launch.sh and install.sh: directories that no other local user can steer.
#
# cargo reads .cargo/config.toml (and .cargo/config) from the directory it runs in and from every
# directory above it; such a file can name a linker, that is, a program cargo runs as us. So a
# build may run only in a directory whose every parent only we and root can write: then nobody
# else can have put such a file there. World-writable parents (a sticky /tmp too) are out, and so
# are group-writable ones, unless no other user is in that group (a private group, or Debian's
# empty "staff" on /usr/local). Each function prints what is wrong, in one line, and returns 1.

zk_me=$(id -u)

# Whether no user but us (and root) is in group $1: its listed members, and whoever has it as
# primary group.
zk_group_is_ours() {
  local gid=$1 me_name members
  me_name=$(id -un)
  members=$(getent group "$gid" | cut -d: -f4 | tr ',' '\n' | grep -vx -e '' -e root -e "$me_name" || true)
  [[ -z $members ]] || return 1
  ! getent passwd | awk -F: -v g="$gid" -v me="$me_name" '$4 == g && $1 != me && $1 != "root" {found = 1} END {exit !found}'
}

# Whether only root and we can write $1 (owner, group, mode; symlinks followed).
zk_only_us() {
  local owner group mode
  read -r owner group mode < <(stat -L -c '%u %g %a' -- "$1") || return 1
  [[ $owner == 0 || $owner == "$zk_me" ]] || return 1
  ((8#$mode & 8#002)) && return 1
  ((8#$mode & 8#020)) && ! zk_group_is_ours "$group" && return 1
  return 0
}

# $1 and every directory above it (physical path), and any .cargo config in them: only root
# and we can write them.
zk_check_tree() {
  local d c
  d=$(cd -P -- "$1" 2>/dev/null && pwd) || { echo "cannot enter $1"; return 1; }
  while :; do
    if ! zk_only_us "$d"; then
      echo "$d is writable by other users ($(stat -c '%U:%G, mode %a' -- "$d")), so cargo would read a $d/.cargo/config.toml they control"
      return 1
    fi
    for c in "$d/.cargo" "$d/.cargo/config.toml" "$d/.cargo/config"; do
      if [[ -e $c || -L $c ]] && ! zk_only_us "$c"; then
        echo "$c belongs to or is writable by another user ($(stat -L -c '%U:%G, mode %a' -- "$c")); cargo would read it"
        return 1
      fi
    done
    [[ $d == / ]] && return 0
    d=$(dirname -- "$d")
  done
}

# Make $1 a private directory (mode 0700) if it does not exist, without following a symlink;
# then check it is ours, a real directory, 0700.
zk_private_dir() {
  local d=$1 owner mode
  if [[ ! -e $d && ! -L $d ]]; then
    mkdir -p -- "$(dirname -- "$d")" 2>/dev/null
    mkdir -m 700 -- "$d" 2>/dev/null
  fi
  if [[ -L $d ]]; then
    echo "$d is a symbolic link, not a directory of yours; remove it (rm $d)"
    return 1
  fi
  [[ -d $d ]] || { echo "cannot create the directory $d"; return 1; }
  read -r owner mode < <(stat -c '%u %a' -- "$d")
  if [[ $owner != "$zk_me" ]]; then
    echo "$d belongs to $(stat -c %U -- "$d") (uid $owner), not to you: someone else may have made it; remove it (rm -rf $d)"
    return 1
  fi
  if [[ $mode != 700 ]]; then
    echo "$d has mode $mode, so others may have changed it; look inside, then chmod 700 $d"
    return 1
  fi
}
