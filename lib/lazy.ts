/**
 * Loading on first use (issue 9, cold starts): code a process may never need (got, yauzl,
 * proper-lockfile, hyparquet's general reader, the Binance sources, a handler's whole service) is
 * imported by the first call that needs it, through `once`.
 */

/**
 * A loader that runs `load` on its first call and hands every later call the same promise. A
 * failed load (a missing chunk, an I/O error) is forgotten, so the next call loads again
 * instead of failing for the life of the process.
 */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load().catch((error: unknown) => {
    loaded = undefined;
    throw error;
  }));
}
