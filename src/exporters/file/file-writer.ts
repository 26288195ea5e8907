import type { Timer } from '../../component/clock.js';
import { errorMessage } from '../../component/errors.js';
import type { CreateSettings } from '../../component/factory.js';
import type { ExporterMetrics } from '../../telemetry/self-metrics.js';
import type { FileExporterConfig } from './config.js';
import { RotatingFile } from './rotating-file.js';

/** Lines buffered before writers wait for them to reach the file. */
const BUFFER_BYTES = 1024 * 1024;

interface Line {
  readonly bytes: Buffer;
  readonly items: number;
  readonly metrics: ExporterMetrics;
}

/**
 * The buffered writer behind one file, shared by the exporter instances of every signal that
 * writes there (so one file has one size to rotate on). Lines are written every
 * `flush_interval`, or at once when `BUFFER_BYTES` are waiting; past that, `append()` waits for the
 * disk. Opened by the first user, flushed and closed by the last.
 */
export class FileWriter {
  private readonly file: RotatingFile;
  private pending: Line[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: Timer | undefined;
  private users = 0;
  private opening: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly config: FileExporterConfig,
    private readonly settings: CreateSettings,
  ) {
    const r = config.rotation;
    this.file = new RotatingFile(
      config.path,
      r && { maxBytes: r.max_megabytes * 1024 * 1024, maxBackups: r.max_backups },
      settings.clock,
    );
  }

  /** Opens the file for one more user. */
  acquire(): Promise<void> {
    this.users++;
    this.opening ??= this.file.open().then(() => {
      this.timer = this.settings.clock
        .setInterval(() => void this.flush(), this.config.flush_interval)
        .unref();
    });
    return this.opening.catch((err: unknown) => {
      this.users--;
      this.opening = undefined;
      throw new Error(`cannot open "${this.config.path}": ${errorMessage(err)}`, { cause: err });
    });
  }

  /** One user is done; the last one flushes and closes the file. */
  async release(): Promise<void> {
    if (--this.users > 0) return this.flush();
    this.timer?.cancel();
    await this.flush();
    await this.file.close();
    this.opening = undefined;
  }

  async append(bytes: Buffer, items: number, metrics: ExporterMetrics): Promise<void> {
    while (this.pendingBytes >= BUFFER_BYTES) await this.flush();
    this.pending.push({ bytes, items, metrics });
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= BUFFER_BYTES) await this.flush();
  }

  /** Resolves once the writes started so far are done (starts none). */
  idle(): Promise<void> {
    return this.writing;
  }

  /** Writes what is buffered; writes happen one at a time, in order. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writePending());
    return this.writing;
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    let error: unknown;
    try {
      await this.file.write(lines.map((l) => l.bytes));
    } catch (err) {
      error = err;
    }
    for (const l of lines) {
      if (error === undefined) l.metrics.sent(l.items);
      else l.metrics.sendFailed(l.items);
    }
    if (error !== undefined && !this.failing) {
      this.settings.logger.error(
        { path: this.config.path, error: errorMessage(error) },
        `cannot write to "${this.config.path}": ${errorMessage(error)}; data is dropped (and counted) until writing works again`,
      );
    } else if (error === undefined && this.failing) {
      this.settings.logger.info({ path: this.config.path }, 'writing to the file works again');
    }
    this.failing = error !== undefined;
  }
}
