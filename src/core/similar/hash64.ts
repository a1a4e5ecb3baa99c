/**
 * 64-bit perceptual hashes as two unsigned 32-bit halves. JavaScript's bit operators work on 32
 * bits and BigInt arithmetic allocates, so the hot loops (index, distances) use `hi`/`lo` numbers
 * in typed arrays; hex text is for people and JSON, a signed 64-bit integer for SQLite.
 */
export interface Hash64 {
  hi: number;
  lo: number;
}

/** Set bits of a 32-bit integer (SWAR: no table, no loop). */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Hamming distance of two 64-bit hashes given as halves. */
export function hamming(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return popcount32((aHi ^ bHi) >>> 0) + popcount32((aLo ^ bLo) >>> 0);
}

const HEX = /^[0-9a-f]{16}$/;

export function toHex(h: Hash64): string {
  return (h.hi >>> 0).toString(16).padStart(8, '0') + (h.lo >>> 0).toString(16).padStart(8, '0');
}

export function fromHex(hex: string): Hash64 {
  if (!HEX.test(hex)) throw new Error(`not a 64-bit hash in hex (16 digits 0-9a-f): ${JSON.stringify(hex)}`);
  return { hi: parseInt(hex.slice(0, 8), 16), lo: parseInt(hex.slice(8), 16) };
}

/**
 * The hash as SQLite stores it: a signed 64-bit INTEGER, written as decimal text (sql.js binds a
 * BigInt as text; `CAST(? AS INTEGER)` makes it an integer again, exactly). Reading back,
 * `printf('%016x', phash)` gives the same 16 hex digits (SQLite prints the two's complement).
 */
/** The signed 64-bit integer a database stores (decimal text) as the 16 hex digits rows carry. */
export function fromSqlInteger(decimal: string): string {
  return BigInt.asUintN(64, BigInt(decimal)).toString(16).padStart(16, '0');
}

export function toSqlInteger(hex: string): string {
  fromHex(hex);
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString();
}

/**
 * Concatenated 16-digit hex hashes (one SQL aggregate: no per-row crossing of the WASM boundary)
 * into halves. `count` hashes are expected; anything else is an error, never a silent short read.
 */
export function halvesOfHexRun(run: string, count: number): { hi: Uint32Array; lo: Uint32Array } {
  if (run.length !== count * 16) throw new Error(`expected ${count} hashes of 16 hex digits, got ${run.length} characters`);
  const hi = new Uint32Array(count);
  const lo = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * 16;
    const h = parseInt(run.slice(at, at + 8), 16);
    const l = parseInt(run.slice(at + 8, at + 16), 16);
    if (Number.isNaN(h) || Number.isNaN(l)) throw new Error(`not a hex hash at position ${i}: ${JSON.stringify(run.slice(at, at + 16))}`);
    hi[i] = h;
    lo[i] = l;
  }
  return { hi, lo };
}
