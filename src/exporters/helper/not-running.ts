import { UnavailableError } from '../../component/errors.js';

/** The error `consume()` gives before `start()` or once shutdown has begun (503 / UNAVAILABLE). */
export function notRunning(
  id: string,
  state: 'created' | 'stopping' | 'stopped',
): UnavailableError {
  return new UnavailableError(
    `exporter ${id} is ${state === 'created' ? 'not started' : 'shutting down'}`,
  );
}
