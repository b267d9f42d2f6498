#!/usr/bin/env bash
# A real Ceph RGW on loopback for tests, benchmarks and the local notebook run.
#
#   tests/rgw.sh start   # prints the env to `eval`: AWS_ENDPOINT_URL, two users' keys
#   tests/rgw.sh stop    # stops every daemon it started and removes its data
#   tests/rgw.sh kill-rgw | restart-rgw   # crash / relaunch the gateway only (fault tests)
#
# One monitor, one memstore OSD, cephx off, a zonegroup whose api-name is `RegionOne`
# (like Jetstream 2), and two users. Everything listens on 127.0.0.1 only.
# The gateway runs beast with tcp_nodelay=1. With RGW_STOCK_PORT set, a second gateway on the
# same cluster (same buckets) serves that port with beast as Ceph ships it (Nagle on), printed
# as RGW_STOCK_ENDPOINT: the benchmarks run every row on both.
set -euo pipefail

# Its data, pid files and logs: by default in this user's cache, never a fixed /tmp path that
# another user could have made first (stop kills the pids it finds there and removes it).
DIR=${RGW_DIR:-${ZK_CACHE:-$HOME/.cache/zarr-kernel}/rgw}
RGW_PORT=${RGW_PORT:-18080}
MON_PORT=${RGW_MON_PORT:-16789}
STOCK_PORT=${RGW_STOCK_PORT:-}
MEM_BYTES=${RGW_MEMSTORE_BYTES:-8589934592}
CONF=$DIR/ceph.conf
# Fixed test identities: they only ever exist on this loopback server.
ALICE_KEY=ZKALICE0000000000001
ALICE_SECRET=alice-secret-for-loopback-tests-only-0001
BOB_KEY=ZKBOB000000000000002
BOB_SECRET=bob-secret-for-loopback-tests-only-00002

log() { echo "rgw.sh: $*" >&2; }
fail() {
  log "$*; last log lines:"
  tail -n 5 "$DIR"/log/* >&2 2>/dev/null || true
  stop
  exit 1
}

need() {
  local missing=()
  for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph; do
    command -v "$b" >/dev/null || missing+=("$b")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      log "installing Ceph from Debian (missing: ${missing[*]})"
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ceph-mon ceph-osd radosgw ceph-common >/dev/null
    else
      log "missing ${missing[*]}: install Debian's ceph-mon ceph-osd radosgw ceph-common"; exit 1
    fi
  fi
}

print_env() {
  cat <<ENV
export AWS_ENDPOINT_URL=http://127.0.0.1:$RGW_PORT
export AWS_REGION=RegionOne
export RGW_ALICE_KEY=$ALICE_KEY
export RGW_ALICE_SECRET=$ALICE_SECRET
export RGW_BOB_KEY=$BOB_KEY
export RGW_BOB_SECRET=$BOB_SECRET
ENV
  [[ -z $STOCK_PORT ]] || echo "export RGW_STOCK_ENDPOINT=http://127.0.0.1:$STOCK_PORT"
}

stop() {
  for name in radosgw-stock radosgw osd mon; do
    if [[ -f $DIR/$name.pid ]]; then
      local pid; pid=$(cat "$DIR/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$DIR"
}

start() {
  need
  [[ -d $DIR ]] && stop
  for port in "$MON_PORT" "$RGW_PORT" $STOCK_PORT; do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      log "port $port on 127.0.0.1 is in use (another RGW? tests/rgw.sh stop, or set RGW_PORT/RGW_MON_PORT)"; exit 1
    fi
  done
  (umask 077 && mkdir -p "$DIR"/{mon,osd,run,log})
  local fsid; fsid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$CONF" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc
ms mon service mode = crc
ms client mode = crc
ms service mode = crc
ms bind ipv6 = false
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
pid file = $DIR/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
osd class update on start = false
osd crush update on start = false
osd objectstore = memstore
memstore device bytes = $MEM_BYTES
rgw enable usage log = false
# A deleted object's data waits for RGW's garbage collector, by default 2 h: in a memstore OSD
# that is RAM (benchmarks that overwrite GBs ran the machine out of it). Collect within seconds.
rgw gc obj min wait = 0
rgw gc processor period = 5
rgw gc processor max time = 5
[mon.a]
mon data = $DIR/mon
[osd.0]
osd data = $DIR/osd
osd journal = $DIR/osd/journal
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw zonegroup = RegionOne
rgw zone = RegionOne-a
rgw realm = jetstream
rgw dns name = 127.0.0.1
[client.rgw.stock]
rgw frontends = beast endpoint=127.0.0.1:${STOCK_PORT:-0}
rgw zonegroup = RegionOne
rgw zone = RegionOne-a
rgw realm = jetstream
rgw dns name = 127.0.0.1
CONF
  monmaptool --create --addv a "[v1:127.0.0.1:$MON_PORT]" --fsid "$fsid" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" -i a -f >"$DIR/log/mon.out" 2>&1 & echo $! >"$DIR/mon.pid"
  local C="ceph -c $CONF --connect-timeout 10"
  for _ in $(seq 100); do
    $C -s >/dev/null 2>&1 && break
    # A monitor that exited says why (e.g. "monitor data filesystem reached concerning levels of
    # available storage space"); each `ceph -s` against a dead one would wait its 10 s.
    kill -0 "$(cat "$DIR/mon.pid")" 2>/dev/null ||
      fail "ceph-mon exited: $(grep -m1 -i 'error' "$DIR/log/mon.out" || tail -1 "$DIR/log/mon.out")"
    sleep 0.2
  done
  # The documented manual deployment: the OSD's uuid is chosen here and registered first, so
  # the OSD's own registration at boot agrees with the monitor's.
  local uuid id; uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(timeout 30 $C osd new "$uuid") || fail "the monitor did not register the OSD"
  ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" >"$DIR/log/osd-mkfs.out" 2>&1 || fail "ceph-osd --mkfs failed"
  # Place it in the CRUSH map here instead of letting the OSD do it at boot (a mon command it
  # may send before it knows the cluster's fsid, which the monitor refuses).
  timeout 30 $C osd crush add-bucket localhost host >/dev/null 2>&1 || true
  timeout 30 $C osd crush move localhost root=default >/dev/null 2>&1 || true
  timeout 30 $C osd crush add "osd.$id" 1.0 host=localhost >/dev/null || fail "cannot add the OSD to the CRUSH map"
  ceph-osd -c "$CONF" -i "$id" -f >"$DIR/log/osd.out" 2>&1 & echo $! >"$DIR/osd.pid"
  local up=0
  for _ in $(seq 150); do $C osd stat 2>/dev/null | grep -q '1 up' && { up=1; break; }; sleep 0.2; done
  ((up)) || { [[ -n ${RGW_DEBUG:-} ]] && exit 1; fail "the OSD did not come up"; }

  local A="timeout 60 radosgw-admin -c $CONF"
  $A realm create --rgw-realm=jetstream --default >/dev/null
  $A zonegroup create --rgw-zonegroup=RegionOne --rgw-realm=jetstream --master --default \
     --endpoints="http://127.0.0.1:$RGW_PORT" >/dev/null
  $A zone create --rgw-zonegroup=RegionOne --rgw-zone=RegionOne-a --master --default \
     --endpoints="http://127.0.0.1:$RGW_PORT" >/dev/null
  $A period update --commit --rgw-realm=jetstream >/dev/null
  $A user create --uid=alice --display-name=Alice --access-key=$ALICE_KEY --secret=$ALICE_SECRET --rgw-realm=jetstream >/dev/null
  $A user create --uid=bob --display-name=Bob --access-key=$BOB_KEY --secret=$BOB_SECRET --rgw-realm=jetstream >/dev/null

  launch_rgw
  [[ -z $STOCK_PORT ]] || launch_rgw stock "$STOCK_PORT"
  print_env
}

# A gateway alone (`a`, or `stock` and its port); the cluster and its data stay.
launch_rgw() {
  local name=${1:-a} port=${2:-$RGW_PORT} pid=$DIR/radosgw.pid
  [[ $name == a ]] || pid=$DIR/radosgw-$name.pid
  radosgw -c "$CONF" -n "client.rgw.$name" -f >>"$DIR/log/rgw-$name.out" 2>&1 & echo $! >"$pid"
  for _ in $(seq 300); do
    curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && { log "ready on 127.0.0.1:$port ($name)"; return 0; }
    kill -0 "$(cat "$pid")" 2>/dev/null || break
    sleep 0.2
  done
  fail "radosgw did not come up"
}

# Crash the gateway (SIGKILL: no graceful shutdown), as a fault test's server dying mid-write.
kill_rgw() {
  local pid; pid=$(cat "$DIR/radosgw.pid")
  kill -9 "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  kill-rgw) kill_rgw ;;
  restart-rgw) launch_rgw ;;
  *) echo "usage: $0 start|stop|env|kill-rgw|restart-rgw" >&2; exit 2 ;;
esac
