import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { mountTypeIn, NETWORK_FS } from '../../src/core/fsutil/mountType';
import { defaultScanThreads, NETWORK_SCAN_THREADS, scanThreads } from '../../src/core/scanner/dirWorkerPool';

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

  it('gives a network scan more threads, a local one one per core (2 to 4), never more than the calls allowed', () => {
    const cores = os.availableParallelism();
    assert.equal(defaultScanThreads(), Math.min(4, Math.max(2, cores)));
    assert.equal(scanThreads(false, 16, NETWORK_SCAN_THREADS), defaultScanThreads());
    assert.equal(scanThreads(true, 16, NETWORK_SCAN_THREADS), NETWORK_SCAN_THREADS);
    assert.ok(NETWORK_SCAN_THREADS > defaultScanThreads());
    assert.equal(scanThreads(true, 3, NETWORK_SCAN_THREADS), 3);
    assert.equal(scanThreads(false, 1, NETWORK_SCAN_THREADS), 1);
    assert.equal(scanThreads(true, 16, 1), 1);
  });
});
