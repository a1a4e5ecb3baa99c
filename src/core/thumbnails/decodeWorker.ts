// The decode worker's entry: one request at a time, answered with RGBA pixels (transferred).
import { parentPort } from 'node:worker_threads';
import { decodeHeif, decodeJxl } from './wasmDecoders';
import type { DecodeRequest, DecodeResponse } from './decodeThread';

const port = parentPort;
if (!port) throw new Error('decodeWorker runs as a worker thread');

port.on('message', (req: DecodeRequest) => {
  void (async (): Promise<void> => {
    let res: DecodeResponse;
    try {
      const data = new Uint8Array(req.data);
      const img = req.kind === 'heif' ? await decodeHeif(data) : await decodeJxl(data);
      res = { id: req.id, ok: true, width: img.width, height: img.height, data: img.data };
      port.postMessage(res, [img.data.buffer as ArrayBuffer]);
    } catch (err) {
      res = { id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) };
      port.postMessage(res);
    }
  })();
});
