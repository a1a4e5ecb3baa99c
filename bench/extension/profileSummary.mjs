// What a CPU profile of the extension host's thread says about its stalls: the longest stretches
// in which the thread never went idle (that is what delays every other extension), each with the
// functions that took most of it — by self time, and by the innermost frame of an extension's own
// code (node_modules and VS Code's own frames are skipped to reach it).
//
//   node bench/extension/profileSummary.mjs FILE.cpuprofile [--top N]
import { readFileSync } from 'node:fs';

const short = (url) => (url ? url.replace(/^file:\/\//, '').split('/').slice(-2).join('/') : '');
const frameName = (cf) => `${cf.functionName || '(anonymous)'} ${short(cf.url)}:${cf.lineNumber + 1}`;
/** Code of an extension (ours, the probe's) rather than VS Code's, Node's or a dependency's. */
const isExtensionCode = (url) => /\/(dist|out)\/|probe\.js/.test(url) && !/node_modules|vs\/workbench|vs\/base/.test(url);

export function busyStretches(file, top = 5) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ours = new Map();
  const oursOf = (id) => {
    if (ours.has(id)) return ours.get(id);
    let at = id;
    let found = null;
    while (at !== undefined) {
      const cf = byId.get(at).callFrame;
      if (isExtensionCode(cf.url)) {
        found = frameName(cf);
        break;
      }
      at = parent.get(at);
    }
    ours.set(id, found);
    return found;
  };
  const stretches = [];
  let current = null;
  let t = profile.startTime;
  let busyTotal = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    const node = byId.get(profile.samples[i]);
    const idle = node.callFrame.functionName === '(idle)';
    if (idle) {
      if (current) stretches.push(current);
      current = null;
      continue;
    }
    // The sample's time is the gap to the next sample.
    const next = profile.timeDeltas[i + 1] ?? 0;
    busyTotal += next;
    current ??= { start: t, us: 0, self: new Map(), ours: new Map() };
    current.us += next;
    const self = frameName(node.callFrame);
    current.self.set(self, (current.self.get(self) ?? 0) + next);
    const o = oursOf(node.id) ?? '(no extension frame)';
    current.ours.set(o, (current.ours.get(o) ?? 0) + next);
  }
  if (current) stretches.push(current);
  const total = profile.endTime - profile.startTime;
  const ms = (us) => (us / 1000).toFixed(1);
  const lines = [`profile ${ms(total)} ms, busy ${ms(busyTotal)} ms in ${stretches.length} stretches; the longest:`];
  const topOf = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${k} ${ms(v)}`)
      .join('; ');
  for (const s of stretches.sort((a, b) => b.us - a.us).slice(0, top)) {
    lines.push(`${ms(s.us)} ms at +${ms(s.start - profile.startTime)} ms`);
    lines.push(`   self: ${topOf(s.self, 4)}`);
    lines.push(`   extension frame: ${topOf(s.ours, 4)}`);
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/extension/profileSummary.mjs FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  const i = process.argv.indexOf('--top');
  for (const line of busyStretches(file, i > 0 ? Number(process.argv[i + 1]) : 5)) process.stdout.write(`${line}\n`);
}
