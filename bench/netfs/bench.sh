#!/usr/bin/env bash
# Times a full and a quick scan (and find) of a generated tree through each network-like mount.
#
#   bench/netfs/bench.sh [--dirs 500] [--per-dir 10] [--delays "0.5 5"] [--attr-timeout 0] [--no-sshfs]
#
# Needs a build (npx tsc -p . && node esbuild.mjs) and what mount.sh needs. Everything (tree,
# mount point, scan stores, latencyfs call counts) lives in one temp dir, removed on exit, after
# the mounts are undone (also on failure or Ctrl-C). Scans use a clock 120 s ahead so the freshly
# written tree is not within the racy window (as a later scan would see it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dirs=500 per=10 delays="0.5 5" attr=0 ssh=1
while [ $# -gt 0 ]; do
  case $1 in
    --dirs) dirs=$2; shift 2 ;;
    --per-dir) per=$2; shift 2 ;;
    --delays) delays=$2; shift 2 ;;
    --attr-timeout) attr=$2; shift 2 ;;
    --no-sshfs) ssh=0; shift ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -f "$repo/out/src/core/index.js" ] || { echo "bench.sh: build first (npx tsc -p .)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/netfs-bench-XXXXXX")
cleanup() { "$here/mount.sh" umount "$work/mnt" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/src" "$work/mnt"

python3 - "$work/src" "$dirs" "$per" <<'PY'
import os, sys
root, dirs, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(dirs):
    p = os.path.join(root, f't{d % 10}', f'm{d % 7}', f'l{d}')
    os.makedirs(p, exist_ok=True)
    for f in range(per):
        with open(os.path.join(p, f'i{f}.jpg'), 'wb') as fh:
            fh.write(b'x')
PY
echo "tree: $(find "$work/src" -type f | wc -l) files, $(find "$work/src" -type d | wc -l) folders"

scan() { # scan ROOT STORE: a full scan, then two quick scans
  node -e '
const { scanDataset, closeScanThreads } = require(process.argv[1]);
const now = () => (BigInt(Date.now()) + 120000n) * 1000000n; // past the 62 s racy window of remote file systems
(async () => {
  const [root, store] = process.argv.slice(2);
  for (const label of ["full", "quick", "quick"]) {
    const t = Date.now();
    const r = await scanDataset({ root, storeDir: store, now, forceRescan: label === "full" });
    console.log(`  ${r.report.mode.padEnd(5)} scan: ${r.report.files} files, ${r.report.dirs} folders, ${Date.now() - t} ms (readdir ${r.report.fsOps.readdir}, stat ${r.report.fsOps.stat})`);
  }
  await closeScanThreads();
})().catch((e) => { console.error(e); process.exit(1); });
' "$repo/out/src/core/index.js" "$@"
}
timefind() { local t0; t0=$(date +%s%N); find "$1" >/dev/null; echo "  find: $(( ($(date +%s%N) - t0) / 1000000 )) ms"; }

echo "local:"; scan "$work/src" "$work/store-local"; timefind "$work/src"
for d in $delays; do
  echo "latencyfs, $d ms per metadata call, kernel caches ${attr} s:"
  "$here/mount.sh" latency "$work/src" "$work/mnt" --delay-ms "$d" --attr-timeout "$attr" --stats "$work/calls-$d.json" >/dev/null
  scan "$work/mnt" "$work/store-lat-$d"; timefind "$work/mnt"
  "$here/mount.sh" umount "$work/mnt"
  echo "  calls served (scans + find): $(cat "$work/calls-$d.json")"
done
if [ $ssh = 1 ]; then
  echo "sshfs over loopback sshd (dir_cache=no):"
  "$here/mount.sh" sshfs "$work/src" "$work/mnt" >/dev/null
  scan "$work/mnt" "$work/store-ssh"; timefind "$work/mnt"
  "$here/mount.sh" umount "$work/mnt"
fi
