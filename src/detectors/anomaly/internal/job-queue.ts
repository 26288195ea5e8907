import { setImmediate as nextTick } from 'node:timers/promises';

/** Thrown by `pause()` once the queue is stopping: the running job gives up between two steps. */
export class JobAborted extends Error {
  constructor() {
    super('stopped');
  }
}

/**
 * Runs background jobs (recalculations, window rebuilds) one at a time, in order. Long jobs call
 * `pause()` between steps, which yields to the event loop (so traffic keeps flowing) and aborts
 * them when the processor shuts down.
 */
export class JobQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private running = 0;

  constructor(private readonly onError: (err: unknown, job: string) => void) {}

  /** Queues `job`; the promise settles with its result (rejected with JobAborted if stopped). */
  run<T>(name: string, job: () => Promise<T>): Promise<T> {
    this.running++;
    const result = this.tail.then(() => {
      if (this.stopping) throw new JobAborted();
      return job();
    });
    this.tail = result
      .catch((err: unknown) => {
        if (!(err instanceof JobAborted)) this.onError(err, name);
      })
      .finally(() => this.running--);
    return result;
  }

  /** Queues `job` for its side effects only; errors are reported through `onError`. */
  submit(name: string, job: () => Promise<unknown>): void {
    this.run(name, job).catch(() => undefined);
  }

  get busy(): boolean {
    return this.running > 0;
  }

  pause = async (): Promise<void> => {
    await nextTick();
    if (this.stopping) throw new JobAborted();
  };

  /** Resolves once every queued job has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => (this.running > 0 ? this.idle() : undefined));
  }

  /** Aborts what is running at its next pause, drops what is queued, and waits. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.tail;
  }
}
