/** Waiting, for retry backoff. */

/** Resolves after `ms` milliseconds (setTimeout; a negative or fractional value behaves as setTimeout's). Never rejects. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
