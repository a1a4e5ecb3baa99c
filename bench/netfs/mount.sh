#!/usr/bin/env bash
# Network-like test mounts (FUSE), started in the background and stopped cleanly.
#
#   mount.sh latency SRC MNT [--delay-ms X] [--skew-s N] [--time-granularity-s G] [--stats FILE] [--attr-timeout T]
#                                       latencyfs.py over SRC: a delay per metadata call, a shifted
#                                       server clock, no entry types in readdir
#   mount.sh sshfs SRC MNT [--max-conns N]
#                                       sshfs over a throwaway sshd on 127.0.0.1 (random high port,
#                                       keys made at run time), caches off
#   mount.sh umount MNT                 unmount, stop the daemons, remove the state dir
#
# Everything a mount needs (pid files, keys, sshd config, logs) lives in one state dir per mount
# point, $NETFS_STATE_ROOT/netfs-<hash of MNT> (default root: ${TMPDIR:-/tmp}); umount removes it.
# A mount that does not come up within 10 s is torn down and reported (exit 1).
# Needs root, /dev/fuse; Debian: python3-fusepy (latency), fuse3 sshfs openssh-server (sshfs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "mount.sh: $*" >&2; exit 1; }
state_dir() { echo "${NETFS_STATE_ROOT:-${TMPDIR:-/tmp}}/netfs-$(printf '%s' "$1" | md5sum | cut -c1-12)"; }
abspath() { (cd "$1" && pwd -P); }
is_mounted() { # /proc/mounts escapes spaces as \040
  local m=${1// /\\040}
  awk -v m="$m" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}
stop_pid() { # stop_pid FILE: TERM the pid in FILE (if alive), then KILL after 3 s
  local f=$1 pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
do_umount() {
  local mnt=$1 st i
  st=$(state_dir "$mnt")
  if is_mounted "$mnt"; then
    fusermount3 -u "$mnt" 2>/dev/null || fusermount -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  fi
  for i in $(seq 50); do [ -f "$st/fs.pid" ] && kill -0 "$(cat "$st/fs.pid")" 2>/dev/null || break; sleep 0.1; done
  stop_pid "$st/fs.pid"
  stop_pid "$st/sshd.pid"
  if is_mounted "$mnt"; then umount -l "$mnt" 2>/dev/null || true; fi
  rm -rf "$st"
  ! is_mounted "$mnt" || die "still mounted: $mnt"
}
wait_ready() { # wait_ready MNT PIDFILE
  local mnt=$1 pidf=$2 i
  for i in $(seq 100); do
    if is_mounted "$mnt" && stat "$mnt/." >/dev/null 2>&1; then return 0; fi
    kill -0 "$(cat "$pidf")" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
check_common() {
  [ "$(id -u)" = 0 ] || die "needs root"
  [ -c /dev/fuse ] || die "no /dev/fuse"
  [ -d "$1" ] || die "no source folder: $1"
  [ -d "$2" ] || die "no mount point: $2"
  ! is_mounted "$2" || die "already mounted: $2"
}

mount_latency() {
  local src mnt st
  check_common "$1" "$2"
  src=$(abspath "$1"); mnt=$(abspath "$2"); shift 2
  /usr/bin/python3 -c 'import fusepy' 2>/dev/null || python3 -c 'import fuse' 2>/dev/null || die "python3-fusepy is missing"
  st=$(state_dir "$mnt"); rm -rf "$st"; mkdir -p "$st"
  trap 'do_umount "$mnt" >/dev/null 2>&1; exit 1' ERR INT TERM  # a failed or interrupted start leaves nothing
  /usr/bin/python3 "$here/latencyfs.py" "$src" "$mnt" --foreground "$@" >"$st/fs.log" 2>&1 &
  echo $! >"$st/fs.pid"
  if ! wait_ready "$mnt" "$st/fs.pid"; then
    cat "$st/fs.log" >&2 || true
    trap - ERR INT TERM; do_umount "$mnt"; die "latencyfs did not come up on $mnt"
  fi
  trap - ERR INT TERM
  echo "$mnt"
}

mount_sshfs() {
  local src mnt st port i conns=4
  check_common "$1" "$2"
  src=$(abspath "$1"); mnt=$(abspath "$2"); shift 2
  while [ $# -gt 0 ]; do
    case $1 in
      --max-conns) conns=$2; shift 2 ;;
      *) die "unknown option for sshfs: $1" ;;
    esac
  done
  command -v sshfs >/dev/null || die "sshfs is missing"
  [ -x /usr/sbin/sshd ] || die "openssh-server is missing"
  st=$(state_dir "$mnt"); rm -rf "$st"; mkdir -p "$st"; chmod 700 "$st"
  trap 'do_umount "$mnt" >/dev/null 2>&1; exit 1' ERR INT TERM  # a failed or interrupted start leaves nothing
  mkdir -p /run/sshd  # sshd's privilege separation dir
  ssh-keygen -q -t ed25519 -N '' -f "$st/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$st/client_key"
  cp "$st/client_key.pub" "$st/authorized_keys"
  local started=0
  for i in $(seq 10); do
    port=$(( 20000 + RANDOM % 40000 ))
    cat >"$st/sshd_config" <<CONF
ListenAddress 127.0.0.1:$port
HostKey $st/host_key
PidFile $st/sshd.pid
AuthorizedKeysFile $st/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
Subsystem sftp internal-sftp
CONF
    rm -f "$st/sshd.pid"
    /usr/sbin/sshd -f "$st/sshd_config" -E "$st/sshd.log" || continue
    for _ in $(seq 30); do [ -s "$st/sshd.pid" ] && break; sleep 0.1; done
    # the pid file appears once it listens; a port in use makes sshd exit
    sleep 0.1
    if [ -s "$st/sshd.pid" ] && kill -0 "$(cat "$st/sshd.pid")" 2>/dev/null; then started=1; break; fi
  done
  [ $started = 1 ] || { cat "$st/sshd.log" >&2 || true; trap - ERR INT TERM; do_umount "$mnt"; die "sshd did not start"; }
  echo "$port" >"$st/port"
  sshfs "root@127.0.0.1:$src" "$mnt" -f -p "$port" \
    -o IdentityFile="$st/client_key",IdentitiesOnly=yes,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,LogLevel=ERROR,BatchMode=yes \
    -o dir_cache=no,max_conns="$conns" >"$st/fs.log" 2>&1 &
  echo $! >"$st/fs.pid"
  if ! wait_ready "$mnt" "$st/fs.pid"; then
    cat "$st/fs.log" "$st/sshd.log" >&2 || true
    trap - ERR INT TERM; do_umount "$mnt"; die "sshfs did not come up on $mnt"
  fi
  trap - ERR INT TERM
  echo "$mnt"
}

cmd=${1:-}; shift || true
case $cmd in
  latency) [ $# -ge 2 ] || die "usage: mount.sh latency SRC MNT [--delay-ms X] [--skew-s N]"; mount_latency "$@" ;;
  sshfs) [ $# -ge 2 ] || die "usage: mount.sh sshfs SRC MNT [--max-conns N]"; mount_sshfs "$@" ;;
  umount) [ $# -eq 1 ] || die "usage: mount.sh umount MNT"; [ -d "$1" ] || die "no mount point: $1"; do_umount "$(abspath "$1" 2>/dev/null || echo "$1")" ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
