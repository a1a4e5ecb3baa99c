// Runs inside the decode worker thread only: wasm decoding is synchronous CPU work that would
// otherwise block the thread it runs on (the extension host's, shared by every extension).
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Rgba {
  width: number;
  height: number;
  /** width × height × 4 bytes. */
  data: Uint8Array;
}

/** A .wasm file beside the bundle (dist/), else in its package (tests, tsc output). */
function findWasm(name: string, packagePath: string): string {
  const candidates = [path.join(__dirname, name)];
  try {
    candidates.push(require.resolve(packagePath));
  } catch {
    // Bundled without node_modules: only the copy beside the bundle exists.
  }
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`${name} not found (looked in ${candidates.join(', ')})`);
  return found;
}

interface HeifImage {
  get_width(): number;
  get_height(): number;
  is_primary(): boolean;
  free(): void;
  display(target: { data: Uint8ClampedArray; width: number; height: number }, done: (out: unknown) => void): void;
}
interface HeifModule {
  HeifDecoder: new () => { decoder: unknown; decode(data: Uint8Array): HeifImage[] };
  heif_context_free(ctx: unknown): void;
}

let heif: HeifModule | undefined;
/** libheif prints its reasons with console.log; the last one becomes the error's message. */
let lastLibMessage = '';

function captureConsole(): void {
  console.log = (...args: unknown[]): void => {
    lastLibMessage = args.map(String).join(' ');
  };
}

function loadHeif(): HeifModule {
  if (heif) return heif;
  captureConsole();
  // The wasm build (not the asm.js one, 3× slower); its .wasm is handed over, not fetched.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factory = require('libheif-js/libheif-wasm/libheif.js') as (opts: { wasmBinary: Uint8Array }) => HeifModule;
  heif = factory({ wasmBinary: fs.readFileSync(findWasm('libheif.wasm', 'libheif-js/libheif-wasm/libheif.wasm')) });
  return heif;
}

/** The primary image of a HEIF/HEIC file as RGBA, its rotation and mirroring (irot/imir) applied. */
export async function decodeHeif(data: Uint8Array): Promise<Rgba> {
  const lib = loadHeif();
  const decoder = new lib.HeifDecoder();
  lastLibMessage = '';
  const images = decoder.decode(data);
  try {
    if (!images.length) throw new Error(`HEIF: ${lastLibMessage || 'no image in the file'}`);
    const image = images.find((i) => i.is_primary()) ?? images[0];
    const width = image.get_width();
    const height = image.get_height();
    const out = new Uint8ClampedArray(width * height * 4);
    const ok = await new Promise<boolean>((resolve) => image.display({ data: out, width, height }, (d) => resolve(d !== null)));
    if (!ok) throw new Error(`HEIF: ${lastLibMessage || 'decoding failed'}`);
    return { width, height, data: new Uint8Array(out.buffer) };
  } finally {
    for (const i of images) i.free();
    if (decoder.decoder) lib.heif_context_free(decoder.decoder);
    decoder.decoder = null;
  }
}

type JxlDecode = (buffer: ArrayBuffer) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
let jxl: Promise<JxlDecode> | undefined;

function loadJxl(): Promise<JxlDecode> {
  jxl ??= (async () => {
    // An ES module: the bundle converts it; unbundled, Node ≥ 20.19 requires it as is.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('@jsquash/jxl/decode.js') as { init(m: unknown): Promise<unknown>; default: JxlDecode };
    // Compiled here and handed over, so the module never looks for its .wasm by URL. (The project's
    // lib has no WebAssembly types, which are DOM's.)
    const { WebAssembly: wasmApi } = globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> } };
    const wasm = await wasmApi.compile(await fs.promises.readFile(findWasm('jxl_dec.wasm', '@jsquash/jxl/codec/dec/jxl_dec.wasm')));
    await mod.init(wasm);
    return mod.default;
  })();
  return jxl;
}

/** A JPEG XL file as RGBA (8 bits per channel), its orientation applied by libjxl. */
export async function decodeJxl(data: Uint8Array): Promise<Rgba> {
  const decode = await loadJxl();
  const copy = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  let img: { width: number; height: number; data: Uint8ClampedArray };
  try {
    img = await decode(copy);
  } catch (err) {
    throw new Error(`JPEG XL: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // Transferred to the other thread afterwards: never a view into the wasm heap.
  const own = img.data.byteOffset === 0 && img.data.byteLength === img.data.buffer.byteLength && !(img.data.buffer instanceof SharedArrayBuffer);
  const pixels = own ? new Uint8Array(img.data.buffer) : new Uint8Array(img.data);
  return { width: img.width, height: img.height, data: pixels };
}
