import type { ClientDataStore } from '../clientdata.ts';

/** A ClientDataStore in memory, one key space per plugin, for tests that need no IndexedDB. */
export function memoryStore(): ClientDataStore {
  const spaces = new Map<string, Map<string, Uint8Array>>();
  const space = (p: string) => spaces.get(p) ?? spaces.set(p, new Map()).get(p)!;
  return {
    load: async () => undefined,
    get: (p, k) => space(p).get(k),
    set: (p, k, v) => void space(p).set(k, v),
    delete: (p, k) => void space(p).delete(k),
    flush: async () => undefined,
  };
}
