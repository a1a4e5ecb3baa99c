/**
 * The engine worker's entry: one Engine, requests answered in any order, each with its own
 * AbortController (a 'cancel' message aborts it). Progress is sent at most every 100 ms per request.
 * Only this entry listens on the port.
 */
import { parentPort } from 'node:worker_threads';
import { Engine, type CallContext } from './engine';
import { toWireError, type EngineMethods, type FromEngine, type Method, type Params, type ProgressData, type ToEngine } from './protocol';

const PROGRESS_EVERY_MS = 100;
/** A view request (a page, a lookup) that takes longer than this is logged: the tree or the gallery waited on it. */
const SLOW_VIEW_MS = 250;
const VIEW_METHODS = new Set<Method>(['children', 'duplicates', 'galleryPage', 'galleryChoices', 'lookup', 'applyEvents', 'peek']);

type Handler<M extends Method> = (engine: Engine, params: Params<M>, ctx: CallContext) => EngineMethods[M][1] | Promise<EngineMethods[M][1]>;
const handlers: { [M in Method]: Handler<M> } = {
  peek: (e, p) => e.peek(p.config),
  index: (e, p, ctx) => e.index(p.config, { forceRescan: p.forceRescan, verify: p.verify }, ctx),
  register: (e, p, ctx) => e.register(p.config, p.only, ctx),
  applyEvents: (e, p, ctx) => e.applyEvents(p.config, p.events, ctx),
  children: (e, p) => e.children(p.config, p.group, p.dir, p.offset, p.limit),
  duplicates: (e, p) => e.duplicates(p.config, p.offset, p.limit),
  galleryPage: (e, p, ctx) => e.galleryPage(p.config, p.scope, p.query, p.offset, p.limit, p.facts, ctx),
  galleryChoices: (e, p) => e.galleryChoices(p.config, p.scope),
  clearCache: (e, p) => e.clearCache(p.config, p.alsoRegistry),
  lookup: (e, p) => e.lookup(p.config, p.rel),
  lookupRows: (e, p) => e.lookupRows(p.config, p.rels),
  teamDataset: (e, p) => e.teamDataset(p.config),
  clearTeamDataset: (e, p) => e.clearTeamDataset(p.config, p.expectRows),
  similar: (e, p, ctx) => e.similar(p.config, ctx),
  similarPage: (e, p) => e.similarPage(p.config, p.offset, p.limit),
  similarGroup: (e, p) => e.similarGroup(p.config, p.member),
  thumbnail: (e, p, ctx) => e.thumbnails.thumbnail(p, ctx.signal),
  thumbnailCacheCap: (e, p) => e.thumbnails.setCacheCap(p.storeDir, p.maxCacheBytes),
  closeThumbnails: (e) => e.thumbnails.close(),
  close: (e, p) => e.close(p.key),
};

/** Serves an Engine on a message port (the worker's parent port, or a MessageChannel in tests). */
export function serveEngine(port: { on(event: 'message', cb: (msg: ToEngine) => void): unknown; postMessage(msg: FromEngine): void }): void {
  const engine = new Engine();
  const running = new Map<number, AbortController>();
  const send = (msg: FromEngine): void => port.postMessage(msg);
  const log = (line: string): void => send({ type: 'log', level: 'info', line });
  port.on('message', (msg: ToEngine) => {
    if (msg.type === 'cancel') {
      running.get(msg.id)?.abort();
      return;
    }
    const { id, method } = msg;
    const controller = new AbortController();
    running.set(id, controller);
    let lastProgress = 0;
    let pending: ProgressData | null = null;
    const onProgress = (data: ProgressData): void => {
      const now = Date.now();
      if (now - lastProgress < PROGRESS_EVERY_MS) {
        pending = data;
        return;
      }
      lastProgress = now;
      pending = null;
      send({ type: 'progress', id, data });
    };
    const handler = handlers[method] as Handler<Method>;
    const started = performance.now();
    void (async () => {
      try {
        const result = await handler(engine, msg.params as Params<Method>, { signal: controller.signal, onProgress, log });
        const ms = performance.now() - started;
        if (ms > SLOW_VIEW_MS && VIEW_METHODS.has(method)) log(`engine: ${method} answered in ${Math.round(ms)} ms`);
        if (pending) send({ type: 'progress', id, data: pending });
        send({ type: 'result', id, result });
      } catch (err) {
        send({ type: 'error', id, error: toWireError(err) });
      } finally {
        running.delete(id);
      }
    })();
  });
}

if (parentPort) serveEngine(parentPort);
