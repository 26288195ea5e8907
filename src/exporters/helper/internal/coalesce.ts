/**
 * Runs `fn` for many callers with as few calls as correctness allows: a caller that arrives while a
 * run is in progress waits for the next run, which starts after the current one (so it covers
 * whatever the caller did before asking). Used to share one directory fsync among many writes.
 */
export class Coalescer {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly fn: () => Promise<void>) {}

  run(): Promise<void> {
    if (!this.running) {
      this.running = this.fn().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.run();
      });
    return this.next;
  }
}
