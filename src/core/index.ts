export * from './types';
export * from './defaults';
export { scanDataset, resolveOptions, DatasetError } from './scanDataset';
export type { ScanDatasetRequest, ScanReport, ScanDatasetResult } from './scanDataset';
export { cacheFileFor, clearCache, loadCache, readCacheHeader, saveCache } from './cache/store';
export type { CachedScan, CacheLoad } from './cache/store';
export type { CacheHeader } from './cache/format';
export { resolveRoots } from './roots';
export { TOOL_VERSION } from './version';
