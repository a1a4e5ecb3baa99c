import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scanDataset, snapshotFiles, type ScanDatasetResult } from '../../src/core';
import { afterRacyWindow, buildTree, removeDir, tempDir, writeImage } from '../helpers/tmp';

// Scans through network-like FUSE mounts (bench/netfs): latencyfs (a delay per metadata call, no
// entry types in readdir, optionally a shifted server clock and whole-second timestamps) and sshfs
// over a throwaway sshd on 127.0.0.1. Skipped when not root, without /dev/fuse or the Debian
// packages (python3-fusepy fuse3 sshfs openssh-server), or when FUSE cannot mount here.

const MOUNT_SH = path.resolve(__dirname, '../../../bench/netfs/mount.sh');

function missing(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse';
  const need: [string, string][] = [
    ['/usr/lib/python3/dist-packages/fusepy.py', 'python3-fusepy'],
    ['/usr/bin/fusermount3', 'fuse3'],
    ['/usr/bin/sshfs', 'sshfs'],
    ['/usr/sbin/sshd', 'openssh-server'],
  ];
  const absent = need.filter(([f]) => !fs.existsSync(f)).map(([, p]) => p);
  return absent.length ? `missing ${absent.join(' ')}` : null;
}

function mounted(mnt: string): boolean {
  const m = mnt.replace(/ /g, '\\040');
  return fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === m);
}

function mountSh(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('bash', [MOUNT_SH, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

function mount(args: string[]): void {
  const r = mountSh(args);
  assert.ok(r.ok, `mount.sh ${args.join(' ')} failed: ${r.out}`);
}

function unmount(mnt: string): void {
  if (fs.existsSync(mnt)) mountSh(['umount', mnt]);
  assert.ok(!mounted(mnt), `${mnt} is still mounted`);
}

function files(r: ScanDatasetResult): string[] {
  return [...snapshotFiles(r.cache.snapshot)].sort();
}

describe('network-like mounts (FUSE)', function () {
  this.timeout(120_000);
  let src: string;
  let mnt: string;
  let store: string;
  let expected: string[];

  before(function () {
    const why = missing();
    if (why) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    src = tempDir('netfs-src');
    mnt = tempDir('netfs-mnt');
    expected = buildTree(src, 24, 4);
    // A probe: FUSE may be unusable in this container (no CAP_SYS_ADMIN) even with /dev/fuse.
    const probe = mountSh(['latency', src, mnt, '--delay-ms', '0']);
    unmount(mnt);
    if (!probe.ok) {
      console.log(`      (skipped: FUSE cannot mount here: ${probe.out.trim().split('\n').pop()})`);
      removeDir(src);
      removeDir(mnt);
      this.skip();
    }
  });
  beforeEach(() => {
    store = tempDir('netfs-store');
  });
  afterEach(() => {
    if (mnt) unmount(mnt);
    if (store) removeDir(store);
  });
  after(() => {
    if (mnt) {
      unmount(mnt);
      removeDir(mnt);
    }
    if (src) removeDir(src);
  });

  async function fullThenQuick(): Promise<void> {
    const full = await scanDataset({ root: mnt, storeDir: store, hooks: { now: afterRacyWindow } });
    assert.equal(full.report.mode, 'full');
    assert.equal(full.report.errors.length, 0, JSON.stringify(full.report.errors));
    assert.deepEqual(files(full), expected);
    assert.equal(full.report.files, expected.length);
    const quick = await scanDataset({ root: mnt, storeDir: store, hooks: { now: afterRacyWindow } });
    assert.equal(quick.report.mode, 'quick');
    assert.equal(quick.report.files, expected.length);
    assert.deepEqual(files(quick), expected);
    assert.equal(quick.report.fsOps.readdir, 0, 'a no-change quick scan lists no folder');
    assert.equal(quick.report.dirsRead, 0);
  }

  it('latencyfs (1 ms per metadata call, no entry types): full and quick scans find every image; the quick scan lists nothing', async () => {
    const stats = path.join(store, 'latencyfs-stats.json');
    mount(['latency', src, mnt, '--delay-ms', '1', '--stats', stats]);
    await fullThenQuick();
    unmount(mnt); // writes the final counts
    const counts = JSON.parse(fs.readFileSync(stats, 'utf8')) as Record<string, number>;
    // The server saw listings (the full scan's), and stat calls from both scans.
    assert.ok((counts.readdir ?? 0) > 0 && (counts.getattr ?? 0) > 0, JSON.stringify(counts));
  });

  it('latencyfs gives no entry types: every call is counted, folders are listed by name, and only names that are not images are stat-ed; an image-named folder is still walked', async () => {
    const root = tempDir('netfs-untyped');
    try {
      for (let d = 0; d < 10; d++) {
        for (let i = 0; i < 60; i++) writeImage(root, `d${d}/img${i}.png`);
        fs.writeFileSync(path.join(root, `d${d}/notes.txt`), 'not an image');
      }
      writeImage(root, 'd3/album.png/inner.png'); // a folder whose name looks like an image
      const stats = path.join(store, 'untyped-stats.json');
      mount(['latency', root, mnt, '--delay-ms', '0.2', '--stats', stats]);
      const full = await scanDataset({ root: mnt, storeDir: store, hooks: { now: afterRacyWindow } });
      unmount(mnt);
      assert.equal(full.report.files, 601);
      assert.ok(files(full).includes('d3/album.png/inner.png'), 'the image-named folder was walked');
      assert.ok(!files(full).includes('d3/album.png'), 'and is not taken for an image');
      assert.equal(full.report.dirs, 12);
      // Per folder, not per file: a folder stat, the root's entries typed by Node (counted), the
      // notes.txt and subfolder names, and d3's image names once its link count gave it away.
      assert.ok(full.report.fsOps.stat < 300, `stat calls ${full.report.fsOps.stat} for 601 images (one per image would be 601 more)`);
      // The server's own count is not compared: this libfuse answers a names-only listing with a
      // getattr per entry of its own, which no client call asked for.
      assert.ok(fs.existsSync(stats));
    } finally {
      removeDir(root);
    }
  });

  it('sshfs over a loopback sshd (caches off): full and quick scans find every image; the quick scan lists nothing', async () => {
    mount(['sshfs', src, mnt]);
    await fullThenQuick();
  });

  /**
   * A folder changed twice within one second, the scan's read of it in between: with whole-second
   * timestamps its stamp does not change, so only the racy-stamp rule (src/core/scanner/stamp.ts:
   * a stamp within the racy window of the read is not trusted) makes the next quick scan re-read it.
   * Returns whether that quick scan saw the second image (null: the second boundary was not met).
   */
  async function sameSecondChange(skewS: number): Promise<boolean> {
    const root = tempDir('netfs-skew-src');
    try {
      buildTree(root, 3, 1);
      mount(['latency', root, mnt, '--delay-ms', '0.2', '--skew-s', String(skewS), '--time-granularity-s', '1']);
      for (let attempt = 0; attempt < 5; attempt++) {
        const storeDir = tempDir('netfs-skew-store');
        try {
          // Start just after a second boundary: write, scan, write again within that second.
          await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
          const second = Math.floor(Date.now() / 1000);
          writeImage(mnt, `top0/d${attempt}/a.png`);
          const first = await scanDataset({ root: mnt, storeDir });
          assert.ok(files(first).includes(`top0/d${attempt}/a.png`));
          writeImage(mnt, `top0/d${attempt}/b.png`);
          if (Math.floor(Date.now() / 1000) !== second) continue; // too slow: try again
          const next = await scanDataset({ root: mnt, storeDir });
          assert.equal(next.report.mode, 'quick');
          return files(next).includes(`top0/d${attempt}/b.png`);
        } finally {
          removeDir(storeDir);
        }
      }
      assert.fail('could not write, scan and write again within one second in 5 attempts');
    } finally {
      unmount(mnt);
      removeDir(root);
    }
  }

  it('whole-second timestamps, server clock in step: a folder changed in the second of its read is re-read next time', async () => {
    assert.ok(await sameSecondChange(0), 'the quick scan missed an image added in the second of the previous read');
  });

  it('whole-second timestamps, server clock 30 s ahead: a folder changed in the second of its read is re-read next time', async () => {
    assert.ok(await sameSecondChange(30), 'the quick scan missed an image added in the second of the previous read');
  });

  // A server clock behind ours makes a folder changed just now look old; the racy window on
  // file systems served by another machine covers 60 s of clock difference (stamp.ts).
  it('whole-second timestamps, server clock 30 s behind: a folder changed in the second of its read is re-read next time', async () => {
    assert.ok(await sameSecondChange(-30), 'the quick scan missed an image added in the second of the previous read');
  });
});
