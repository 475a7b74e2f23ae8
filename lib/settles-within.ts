/**
 * Whether `promise` settles (resolves or rejects) within `ms` milliseconds. Never rejects, and
 * leaves no timer behind; the promise itself keeps running either way.
 *
 * @example
 *   if (!(await settlesWithin(informer.start(), 10_000))) report('still listing')
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
