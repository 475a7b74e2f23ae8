/** Where signals come from: the process, or an emitter in tests (emitting a real signal would reach the test run's own handlers). */
export interface SignalSource {
  on(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * The first SIGINT or SIGTERM, for commands that run until they are stopped.
 *
 * Listen before starting anything (a signal during start-up is then not lost) and call `dispose()`
 * in `finally`: the CLI's tests run commands in one process again and again, and a listener left
 * behind would answer the next run's signal in its place.
 *
 * @example
 *   const stop = stopSignal();
 *   try {
 *     await server.start();
 *     logger.info({ signal: await stop.signal }, 'stopping');
 *   } finally {
 *     stop.dispose();
 *     await server.stop();
 *   }
 */
export function stopSignal(source: SignalSource = process): { signal: Promise<NodeJS.Signals>; dispose(): void } {
  let dispose!: () => void;
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    const on = (received: NodeJS.Signals) => {
      dispose();
      resolve(received);
    };
    dispose = () => {
      source.off('SIGINT', on);
      source.off('SIGTERM', on);
    };
    source.on('SIGINT', on);
    source.on('SIGTERM', on);
  });
  return { signal, dispose };
}
