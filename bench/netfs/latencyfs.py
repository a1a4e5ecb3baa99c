#!/usr/bin/env python3
"""A passthrough FUSE file system that behaves like a slow network filer.

    latencyfs.py SRC MNT [--delay-ms 0.5] [--skew-s 0] [--time-granularity-s 0] [--stats FILE]
                         [--attr-timeout 0] [--foreground]

Every metadata call (getattr, access, opendir, readdir, open) waits --delay-ms before it is
served; calls are served concurrently (several requests in flight, as an NFS client has).
Timestamps are reported shifted by --skew-s seconds (a server clock behind or ahead of ours) and
un-shifted on utimens (when both times are set, as by touch and cp -p: libfuse 2's high-level API
drops an update of one time alone, touch -a/-m). --time-granularity-s 1 reports whole seconds (as
sshfs/SFTP and some NFS servers do). readdir returns names only, so readdir(withFileTypes) sees
DT_UNKNOWN (as on many FUSE, NFS and SMB servers). The kernel's attribute and entry caches are off by default
(--attr-timeout 0): every stat reaches the "server". With --stats FILE the calls per op are
written to FILE as JSON (rewritten while they change, and at unmount).

Needs python3-fusepy (Debian; libfuse2) and /dev/fuse.
"""
import argparse
import errno
import json
import os
import threading
import time

try:
    from fusepy import FUSE, FuseOSError, Operations  # Debian's python3-fusepy
except ImportError:  # pip's fusepy
    from fuse import FUSE, FuseOSError, Operations  # type: ignore

UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2


class TimesFUSE(FUSE):
    """fusepy folds tv_sec and tv_nsec into one number, losing UTIME_NOW / UTIME_OMIT (touch -m, -a):
    pass each time as ns, or 'now' or 'omit'."""

    def utimens(self, path, buf):
        times = None
        if buf:
            times = tuple(
                'now' if ts.tv_nsec == UTIME_NOW else 'omit' if ts.tv_nsec == UTIME_OMIT
                else ts.tv_sec * 10 ** 9 + ts.tv_nsec
                for ts in (buf.contents.actime, buf.contents.modtime))
        return self.operations('utimens', path.decode(self.encoding), times)

METADATA_OPS = ('getattr', 'access', 'opendir', 'readdir', 'open')


class LatencyFS(Operations):
    use_ns = True

    def __init__(self, root, delay_s, skew_s, stats_file, granularity_s=0.0):
        self.granularity_ns = int(round(granularity_s * 1e9))
        self.root = os.path.realpath(root)
        self.delay_s = delay_s
        self.skew_ns = int(round(skew_s * 1e9))
        self.stats_file = stats_file
        self.counts = {}
        self._mutex = threading.Lock()
        self.version = 0
        self.stop = threading.Event()
        if stats_file:
            threading.Thread(target=self._stats_loop, daemon=True).start()

    # ---- bookkeeping -------------------------------------------------------------------------
    def _count(self, op):
        with self._mutex:
            self.counts[op] = self.counts.get(op, 0) + 1
            self.version += 1

    def _meta(self, op):
        self._count(op)
        if self.delay_s > 0:
            time.sleep(self.delay_s)

    def _write_stats(self):
        with self._mutex:
            data = json.dumps(self.counts, sort_keys=True)
        tmp = self.stats_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write(data + '\n')
        os.replace(tmp, self.stats_file)

    def _stats_loop(self):
        written = -1
        while not self.stop.wait(0.2):
            if self.version != written:
                written = self.version
                try:
                    self._write_stats()
                except OSError:
                    pass

    def destroy(self, path):
        self.stop.set()
        if self.stats_file:
            try:
                self._write_stats()
            except OSError:
                pass

    def _full(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    # ---- metadata (delayed) ------------------------------------------------------------------
    def getattr(self, path, fh=None):
        self._meta('getattr')
        try:
            st = os.fstat(fh) if fh is not None else os.lstat(self._full(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        attrs = {k: getattr(st, k) for k in (
            'st_mode', 'st_ino', 'st_dev', 'st_nlink', 'st_uid', 'st_gid', 'st_size', 'st_blocks')}
        for key in ('st_atime', 'st_mtime', 'st_ctime'):
            ns = getattr(st, key + '_ns')
            if self.granularity_ns > 0:
                ns -= ns % self.granularity_ns
            attrs[key] = ns + self.skew_ns
        return attrs

    def access(self, path, mode):
        self._meta('access')
        if not os.access(self._full(path), mode):
            raise FuseOSError(errno.EACCES)

    def opendir(self, path):
        self._meta('opendir')
        if not os.path.isdir(self._full(path)):
            raise FuseOSError(errno.ENOTDIR)
        return 0

    def readdir(self, path, fh):
        self._meta('readdir')
        try:
            names = os.listdir(self._full(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        return ['.', '..'] + names  # names only: no entry types (DT_UNKNOWN)

    def open(self, path, flags):
        self._meta('open')
        try:
            return os.open(self._full(path), flags)
        except OSError as e:
            raise FuseOSError(e.errno)

    # ---- the rest: plain passthrough ---------------------------------------------------------
    def _call(self, op, fn, *args):
        self._count(op)
        try:
            return fn(*args)
        except OSError as e:
            raise FuseOSError(e.errno)

    def readlink(self, path):
        return self._call('readlink', os.readlink, self._full(path))

    def create(self, path, mode, fi=None):
        return self._call('create', os.open, self._full(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

    def read(self, path, size, offset, fh):
        self._count('read')
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        self._count('write')
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            return self._call('truncate', os.ftruncate, fh, length)
        return self._call('truncate', os.truncate, self._full(path), length)

    def flush(self, path, fh):
        self._count('flush')
        return 0

    def fsync(self, path, datasync, fh):
        return self._call('fsync', os.fdatasync if datasync else os.fsync, fh)

    def release(self, path, fh):
        return self._call('release', os.close, fh)

    def releasedir(self, path, fh):
        return 0

    def mkdir(self, path, mode):
        return self._call('mkdir', os.mkdir, self._full(path), mode)

    def rmdir(self, path):
        return self._call('rmdir', os.rmdir, self._full(path))

    def unlink(self, path):
        return self._call('unlink', os.unlink, self._full(path))

    def rename(self, old, new):
        return self._call('rename', os.rename, self._full(old), self._full(new))

    def link(self, target, source):
        return self._call('link', os.link, self._full(source), self._full(target))

    def symlink(self, target, source):
        return self._call('symlink', os.symlink, source, self._full(target))

    def chmod(self, path, mode):
        return self._call('chmod', os.chmod, self._full(path), mode)

    def chown(self, path, uid, gid):
        return self._call('chown', os.lchown, self._full(path), uid, gid)

    def utimens(self, path, times=None):
        if times is None:
            return self._call('utimens', os.utime, self._full(path))
        full = self._full(path)

        def source_times():
            st = os.lstat(full)
            out = []
            for t, current in zip(times, (st.st_atime_ns, st.st_mtime_ns)):
                if t == 'omit':
                    out.append(current)
                elif t == 'now':
                    out.append(time.time_ns())  # the server's "now" is its own clock
                else:
                    out.append(t - self.skew_ns)  # a time in the mount's (shifted) clock: un-shift it
            return tuple(out)

        return self._call('utimens', lambda: os.utime(full, ns=source_times(), follow_symlinks=False))

    def statfs(self, path):
        self._count('statfs')
        sv = os.statvfs(self._full(path))
        return {k: getattr(sv, k) for k in (
            'f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files', 'f_flag',
            'f_frsize', 'f_namemax')}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('source')
    p.add_argument('mountpoint')
    p.add_argument('--delay-ms', type=float, default=0.5, help='delay per metadata call (default 0.5)')
    p.add_argument('--skew-s', type=float, default=0.0, help='shift of reported timestamps, seconds')
    p.add_argument('--time-granularity-s', type=float, default=0.0,
                   help='report timestamps truncated to this many seconds (default 0: as the source)')
    p.add_argument('--stats', default=None, help='write the calls per op to this JSON file')
    p.add_argument('--attr-timeout', type=float, default=0.0,
                   help="the kernel's attribute/entry cache, seconds (default 0: every call reaches us)")
    p.add_argument('--foreground', action='store_true')
    a = p.parse_args()
    fs = LatencyFS(a.source, a.delay_ms / 1000.0, a.skew_s, a.stats, a.time_granularity_s)
    TimesFUSE(fs, a.mountpoint, foreground=a.foreground, nothreads=False, use_ino=True,
         attr_timeout=a.attr_timeout, entry_timeout=a.attr_timeout, negative_timeout=0,
         fsname='latencyfs', subtype='latencyfs', default_permissions=True, allow_other=False)


if __name__ == '__main__':
    main()
