import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { mountTypeIn, NETWORK_FS } from '../../src/core/fsutil/mountType';
import { defaultScanThreads, MAX_SCAN_THREADS, measureRoundTrip, NETWORK_SCAN_THREADS, REMOTE_ROUND_TRIP_MS, scanThreads } from '../../src/core/scanner/scanThreads';
import { tempDir, removeDir } from '../helpers/tmp';

const MOUNTS = [
  'overlay / overlay rw,relatime 0 0',
  'nas:/export/data /mnt/data nfs4 rw,relatime,vers=4.2 0 0',
  '//server/share /mnt/data/smb\\040share cifs rw 0 0',
  'user@host:/srv /home/me/remote fuse.sshfs rw 0 0',
  'tmpfs /tmp tmpfs rw 0 0',
].join('\n');

describe('mount types and scan threads', () => {
  it('finds the mount of a path by the longest mount point, spaces in mount points included', () => {
    assert.equal(mountTypeIn(MOUNTS, '/mnt/data/images/a.png'), 'nfs4');
    assert.equal(mountTypeIn(MOUNTS, '/mnt/data/smb share/x'), 'cifs');
    assert.equal(mountTypeIn(MOUNTS, '/mnt/database'), 'overlay');
    assert.equal(mountTypeIn(MOUNTS, '/home/me/remote'), 'fuse.sshfs');
    assert.equal(mountTypeIn(MOUNTS, '/tmp/x'), 'tmpfs');
    assert.equal(mountTypeIn('', '/x'), null);
  });

  it('knows network file systems from local ones', () => {
    for (const t of ['nfs', 'nfs4', 'cifs', 'smb3', 'fuse.sshfs', 'ceph', 'lustre']) assert.ok(NETWORK_FS.test(t), t);
    for (const t of ['ext4', 'xfs', 'btrfs', 'tmpfs', 'overlay', 'fuse.nfsish']) assert.ok(!NETWORK_FS.test(t), t);
  });

  it('gives a local disk one thread per core (2 to 4), remote storage threads by its round trip, bounded, never more than the calls allowed', () => {
    const cores = os.availableParallelism();
    assert.equal(defaultScanThreads(), Math.min(4, Math.max(2, cores)));
    // A short round trip on a local type: by cores.
    assert.equal(scanThreads(0.03, false), defaultScanThreads());
    // A known network type: at least NETWORK_SCAN_THREADS, even when its cache answered fast.
    assert.equal(scanThreads(0.03, true), NETWORK_SCAN_THREADS);
    assert.ok(NETWORK_SCAN_THREADS > defaultScanThreads());
    // An unknown type with a long round trip (a FUSE daemon, a filer): more with a longer trip,
    // bounded (the probes' round trips through latencyfs at 0.5 and 5 ms per call were ~2 and ~12 ms).
    const lan = scanThreads(2, false);
    const cloud = scanThreads(12, false);
    assert.ok(lan > defaultScanThreads(), `2 ms: ${lan}`);
    assert.ok(cloud > lan, `12 ms: ${cloud}, 2 ms: ${lan}`);
    assert.equal(scanThreads(500, true), MAX_SCAN_THREADS);
    assert.ok(scanThreads(REMOTE_ROUND_TRIP_MS, false) >= defaultScanThreads());
    // The user's cap wins.
    assert.equal(scanThreads(5, true, 3), 3);
    assert.equal(scanThreads(0.03, false, 1), 1);
  });

  it('measures a round trip with stats of names that do not exist (nothing is created)', async () => {
    const dir = tempDir('rtt');
    try {
      const ms = await measureRoundTrip(dir);
      assert.ok(ms > 0 && ms < 1000, `${ms} ms`);
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      removeDir(dir);
    }
  });
});
