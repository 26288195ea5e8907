import type { Logger } from 'pino';

/**
 * Logs a kind of failure the first time it happens and once more when it stops happening, never
 * per occurrence (those are counted in the metrics).
 */
export class Incidents {
  private readonly failing = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  failed(kind: string, message: string, err?: unknown): void {
    const n = this.failing.get(kind) ?? 0;
    this.failing.set(kind, n + 1);
    if (n === 0) {
      this.logger.warn(
        { err, kind },
        `${message} (logged once until it recovers; counted in the hourglass_llm_summary_* metrics)`,
      );
    }
  }

  recovered(kind: string, message: string): void {
    const n = this.failing.get(kind);
    if (n === undefined) return;
    this.failing.delete(kind);
    this.logger.info({ kind, failures: n }, `${message} after ${n} failure${n === 1 ? '' : 's'}`);
  }
}
