import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { callsBetween, mountLatency } from '../../bench/netfs/latencyMount';
import { removeDir, tempDir } from '../helpers/tmp';

// The latencyfs mount of `bench:register --latency-ms`: served calls counted, and the mount always
// undone — by unmount(), after a failed start, and when the process is interrupted (SIGTERM), with
// the processes reading it stopped first. Skipped where FUSE mounts cannot be made (as netfs.test.ts).

const MODULE = path.resolve(__dirname, '../../bench/netfs/latencyMount.js');

function missing(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse';
  if (!fs.existsSync('/usr/lib/python3/dist-packages/fusepy.py')) return 'missing python3-fusepy';
  return null;
}

function mounted(mnt: string): boolean {
  return fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === mnt.replace(/ /g, '\\040'));
}

function workDirs(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('dataset-index-latency-')).sort();
}

/** Running (a killed child no one has reaped yet is a zombie: not running). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('latencyfs mount of the registration bench', function () {
  this.timeout(120_000);
  let src: string;

  before(function () {
    const why = missing();
    if (why) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    src = tempDir('latency-src');
    fs.mkdirSync(path.join(src, 'a'));
    fs.writeFileSync(path.join(src, 'a', 'one.jpg'), Buffer.alloc(70_000, 7));
  });
  after(() => {
    if (src) removeDir(src);
  });

  it('serves the source with a delay per call, counts the calls, and unmounts leaving nothing', async () => {
    const before = workDirs();
    const m = mountLatency(src, 5);
    let unmounted = false;
    try {
      assert.ok(mounted(m.root));
      const c0 = await m.counts();
      const t = performance.now();
      const data = await fs.promises.readFile(path.join(m.root, 'a', 'one.jpg'));
      const ms = performance.now() - t;
      assert.equal(data.length, 70_000);
      const calls = callsBetween(c0, await m.counts());
      // lookup a, lookup one.jpg, open (at least): each waited 5 ms.
      assert.ok(calls.delayed >= 3, `delayed calls ${calls.delayed}`);
      assert.ok(ms >= 3 * 5, `read took ${ms.toFixed(1)} ms, less than 3 delays`);
      assert.ok(calls.all > calls.delayed, 'read and release are counted too');
      const cpu = m.serverCpuMs();
      assert.ok(cpu !== null && cpu >= 0, `server CPU ${cpu}`);
      m.unmount();
      unmounted = true;
      assert.ok(!mounted(m.root));
      assert.deepEqual(workDirs(), before);
      assert.equal(fs.readFileSync(path.join(src, 'a', 'one.jpg')).length, 70_000, 'the source is untouched');
    } finally {
      if (!unmounted) m.unmount();
    }
  });

  it('a start that fails throws and leaves no mount and no temp dir', () => {
    const before = workDirs();
    assert.throws(() => mountLatency(path.join(src, 'no-such-folder'), 1), /mount\.sh latency failed: .*no source folder/);
    assert.deepEqual(workDirs(), before);
  });

  it('on SIGTERM stops what reads the mount, then unmounts', async () => {
    const before = workDirs();
    // A bench in miniature: mounts, starts a reader that keeps a file open, registers it to be stopped.
    const script = `
      const { spawn } = require('node:child_process');
      const { mountLatency, onInterrupt } = require(${JSON.stringify(MODULE)});
      const m = mountLatency(${JSON.stringify(src)}, 1);
      const reader = spawn('sh', ['-c', 'exec 3<"$0"/a/one.jpg; exec sleep 600', m.root], { stdio: 'ignore' });
      onInterrupt(() => reader.kill('SIGKILL'));
      setTimeout(() => console.log(JSON.stringify({ root: m.root, reader: reader.pid })), 500);
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 200 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 100));
    const { root, reader } = JSON.parse(out) as { root: string; reader: number };
    assert.ok(mounted(root), `${root} not mounted; ${err}`);
    assert.ok(alive(reader));
    child.kill('SIGTERM');
    assert.equal(await exited, 130, err);
    assert.ok(!mounted(root), `${root} still mounted after SIGTERM`);
    assert.ok(!alive(reader), 'the reader was not stopped');
    assert.deepEqual(workDirs(), before);
  });
});
