import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { makeDirs } from '../../component/make-dirs.js';
import { basename, dirname, extname, join } from 'node:path';
import type { Clock } from '../../component/clock.js';

export interface Rotation {
  readonly maxBytes: number;
  /** 0 keeps every backup. */
  readonly maxBackups: number;
}

/**
 * An append-only file that, when the next write would take it past `maxBytes`, is renamed to
 * `<name>-<UTC time>.<ext>` (as lumberjack, which the Collector's file exporter uses, names
 * backups) and started afresh; the oldest backups beyond `maxBackups` are deleted. Writes are whole
 * lines, so a line never spans two files.
 */
export class RotatingFile {
  private fh: FileHandle | undefined;
  private size = 0;

  constructor(
    private readonly path: string,
    private readonly rotation: Rotation | undefined,
    private readonly clock: Clock,
  ) {}

  async open(): Promise<void> {
    await makeDirs(dirname(this.path));
    this.fh = await open(this.path, 'a');
    this.size = (await this.fh.stat()).size;
  }

  /** Appends `lines` (each ending with a newline), rotating between lines when needed. */
  async write(lines: readonly Buffer[]): Promise<void> {
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    for (const line of lines) {
      const limit = this.rotation?.maxBytes;
      if (
        limit !== undefined &&
        this.size + chunkBytes + line.length > limit &&
        this.size + chunkBytes > 0
      ) {
        await this.append(chunk, chunkBytes);
        chunk = [];
        chunkBytes = 0;
        await this.rotate();
      }
      chunk.push(line);
      chunkBytes += line.length;
    }
    await this.append(chunk, chunkBytes);
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
  }

  private async append(chunk: Buffer[], bytes: number): Promise<void> {
    if (bytes === 0) return;
    await this.fh!.write(chunk.length === 1 ? chunk[0]! : Buffer.concat(chunk, bytes));
    this.size += bytes;
  }

  private async rotate(): Promise<void> {
    await this.fh!.close();
    this.fh = undefined;
    const ext = extname(this.path);
    const stem = this.path.slice(0, this.path.length - ext.length);
    const stamp = new Date(this.clock.now()).toISOString().replace(/:/g, '-').replace('Z', '');
    let target = `${stem}-${stamp}${ext}`;
    for (let i = 1; (await this.backups()).includes(basename(target)); i++) {
      target = `${stem}-${stamp}.${i}${ext}`;
    }
    await rename(this.path, target);
    await this.open();
    await this.prune();
  }

  /** Backup file names, oldest first (the timestamps sort as text). */
  private async backups(): Promise<string[]> {
    const ext = extname(this.path);
    const prefix = `${basename(this.path, ext)}-`;
    const names = await readdir(dirname(this.path));
    return names
      .filter((n) => n.startsWith(prefix) && n.endsWith(ext) && /\d{4}-\d\d-\d\dT/.test(n))
      .sort();
  }

  private async prune(): Promise<void> {
    const keep = this.rotation?.maxBackups ?? 0;
    if (keep === 0) return;
    const all = await this.backups();
    for (const name of all.slice(0, Math.max(0, all.length - keep))) {
      await unlink(join(dirname(this.path), name)).catch(() => undefined);
    }
  }
}
