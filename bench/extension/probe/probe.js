// The bench's probe: an extension beside Dataset Index in the same extension host. Everything that
// runs there shares one thread, so how late this probe's own timers fire is how long the host was
// blocked — for the user's language servers, git and terminals as much as for us.
//
// It listens on the Unix socket named by DSX_BENCH_SOCKET (set by bench/extension/run.mjs through
// the window's extensionEnvironment), one JSON request per line, one JSON answer per line:
//   {op:'hello', extension}              → its storage folder, the workspace folders, whether `extension` is active
//   {op:'begin', phase, profile}         → starts measuring a phase; with `profile` (a file path),
//                                          also a CPU profile of this thread (inspector), written
//                                          there as a .cpuprofile at the phase's end
//   {op:'end'}                           → stops it: event-loop delay max/p99/p50 (ms, from
//                                          perf_hooks.monitorEventLoopDelay at 10 ms resolution),
//                                          the 10 ms timer's worst and p99 lateness, heap used at
//                                          begin/end/peak (bytes)
//   {op:'exec', command, args}           → runs a VS Code command, answers when it settles (ms, result)
//   {op:'activate', extension}                  → activates an extension (ms, what its API offers)
//   {op:'stores', extension}                  → the datasets' store folders, from the extension's API if it offers them
//   {op:'heap'}                          → heap used now
// The probe measures only between begin and end; otherwise it costs one idle socket.
'use strict';
const net = require('node:net');
const fs = require('node:fs');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const inspector = require('node:inspector');
const vscode = require('vscode');

const TICK_MS = 10;
const HEAP_EVERY_MS = 100;

/** A CPU profile of the extension host's thread (the one every extension shares), through the inspector. */
class Profile {
  constructor(file) {
    this.file = file;
    this.session = new inspector.Session();
    this.session.connect();
    this.ready = this.post('Profiler.enable')
      .then(() => this.post('Profiler.setSamplingInterval', { interval: 500 }))
      .then(() => this.post('Profiler.start'));
  }

  post(method, params) {
    return new Promise((resolve, reject) => this.session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));
  }

  async stop() {
    await this.ready;
    const { profile } = await this.post('Profiler.stop');
    this.session.disconnect();
    fs.writeFileSync(this.file, JSON.stringify(profile));
    return this.file;
  }
}

/** One phase's measurements. */
class Phase {
  constructor(name) {
    this.name = name;
    this.histogram = monitorEventLoopDelay({ resolution: TICK_MS });
    this.lateness = [];
    this.heapStart = process.memoryUsage().heapUsed;
    this.heapPeak = this.heapStart;
    this.started = performance.now();
    this.histogram.enable();
    let expected = performance.now() + TICK_MS;
    let heapAt = 0;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lateness.push(Math.max(0, now - expected));
      expected = now + TICK_MS;
      if (now - heapAt >= HEAP_EVERY_MS) {
        heapAt = now;
        const used = process.memoryUsage().heapUsed;
        if (used > this.heapPeak) this.heapPeak = used;
      }
    }, TICK_MS);
  }

  end() {
    clearInterval(this.timer);
    this.histogram.disable();
    const h = this.histogram;
    const heapEnd = process.memoryUsage().heapUsed;
    const sorted = Float64Array.from(this.lateness).sort();
    const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);
    const ms = (ns) => (Number.isFinite(ns) ? ns / 1e6 : 0);
    return {
      phase: this.name,
      windowMs: performance.now() - this.started,
      loop: { maxMs: ms(h.max), p99Ms: ms(h.percentile(99)), p50Ms: ms(h.percentile(50)), meanMs: ms(h.mean), samples: h.count },
      timer: { maxMs: sorted.length ? sorted[sorted.length - 1] : 0, p99Ms: pct(99), ticks: sorted.length },
      heap: { startBytes: this.heapStart, endBytes: Math.max(heapEnd, 0), peakBytes: Math.max(this.heapPeak, heapEnd) },
    };
  }
}

/** A command's result as JSON, whatever it holds (cycles, class instances): best effort. */
function plain(value) {
  try {
    const seen = new WeakSet();
    return JSON.parse(
      JSON.stringify(value ?? null, (_k, v) => {
        if (v && typeof v === 'object') {
          if (seen.has(v)) return undefined;
          seen.add(v);
        }
        return typeof v === 'function' ? undefined : v;
      }),
    );
  } catch (err) {
    return { unserialisable: String(err) };
  }
}

function activate(context) {
  const socketPath = process.env.DSX_BENCH_SOCKET;
  if (!socketPath) return;
  let phase = null;
  let profiling = null;
  const handlers = {
    hello: async ({ extension }) => ({
      active: extension ? !!vscode.extensions.getExtension(extension)?.isActive : null,
      storage: context.storageUri ? context.storageUri.fsPath : null,
      folders: (vscode.workspace.workspaceFolders ?? []).map((f) => ({ name: f.name, uri: f.uri.toString(), path: f.uri.fsPath })),
      pid: process.pid,
    }),
    begin: async ({ phase: name, profile: file }) => {
      if (phase) phase.end();
      if (profiling) await profiling.stop();
      profiling = file ? new Profile(String(file)) : null;
      if (profiling) await profiling.ready;
      phase = new Phase(String(name));
      return { ok: true };
    },
    end: async () => {
      if (!phase) throw new Error('no phase is being measured');
      const out = phase.end();
      phase = null;
      if (profiling) {
        out.profile = await profiling.stop();
        profiling = null;
      }
      return out;
    },
    exec: async ({ command, args }) => {
      const t0 = performance.now();
      const result = await vscode.commands.executeCommand(command, ...(args ?? []));
      return { ms: performance.now() - t0, result: plain(result) };
    },
    activate: async ({ extension: id }) => {
      const ext = vscode.extensions.getExtension(id);
      if (!ext) {
        const others = vscode.extensions.all.filter((e) => !e.id.startsWith('vscode.')).map((e) => `${e.id} (${e.extensionPath})`);
        throw new Error(`extension ${id} is not loaded in this window; loaded besides the built-in ones: ${others.join(', ') || 'none'}`);
      }
      const t0 = performance.now();
      const api = await ext.activate();
      return { ms: performance.now() - t0, api: api && typeof api === 'object' ? Object.keys(api) : [] };
    },
    stores: async ({ extension: id }) => {
      const api = vscode.extensions.getExtension(id)?.exports;
      return { datasets: api && typeof api.datasets === 'function' ? plain(api.datasets()) : null };
    },
    heap: async () => ({ heapUsed: process.memoryUsage().heapUsed }),
  };
  fs.rmSync(socketPath, { force: true });
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let request;
        try {
          request = JSON.parse(line);
        } catch {
          socket.write(`${JSON.stringify({ error: `not JSON: ${line.slice(0, 80)}` })}\n`);
          continue;
        }
        const handler = handlers[request.op];
        const answer = handler ? handler(request) : Promise.reject(new Error(`unknown op ${request.op}`));
        answer.then(
          (value) => socket.write(`${JSON.stringify({ id: request.id, value })}\n`),
          (err) => socket.write(`${JSON.stringify({ id: request.id, error: String(err && err.stack ? err.stack : err) })}\n`),
        );
      }
    });
    socket.on('error', () => undefined);
  });
  server.listen(socketPath);
  context.subscriptions.push({ dispose: () => server.close() });
}

module.exports = { activate, deactivate() {} };
