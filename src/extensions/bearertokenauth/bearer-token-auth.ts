import { timingSafeEqual } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import type { ServerAuthenticator } from '../../component/auth.js';
import type { CreateSettings } from '../../component/factory.js';
import type { BearerTokenAuthConfig } from './config.js';

/**
 * Checks `Authorization: Bearer <token>` on receivers and the admin API (referenced from their
 * `auth.authenticator`). The comparison takes the same time whatever the guess; the token is
 * never logged. With `filename`, the file is re-read when it changes, so a rotated secret takes
 * effect without a restart.
 */
export class BearerTokenAuth implements ServerAuthenticator {
  private expected: Buffer | undefined;
  private readonly logger: Logger;

  constructor(
    settings: CreateSettings,
    private readonly config: BearerTokenAuthConfig,
  ) {
    this.logger = settings.logger;
  }

  async start(): Promise<void> {
    const { filename } = this.config;
    if (filename === undefined) {
      this.expected = this.header(this.config.token!);
      return;
    }
    this.expected = this.header(this.readToken(filename));
    watchFile(filename, { interval: 5000, persistent: false }, () => {
      try {
        this.expected = this.header(this.readToken(filename));
        this.logger.info({ filename }, 'bearer token file changed: new token in use');
      } catch (err) {
        this.logger.error(
          { filename, err: (err as Error).message },
          'cannot re-read the bearer token file; keeping the previous token',
        );
      }
    });
  }

  async shutdown(): Promise<void> {
    if (this.config.filename !== undefined) unwatchFile(this.config.filename);
  }

  authenticate(authorization: string | undefined): boolean {
    if (this.expected === undefined || authorization === undefined) return false;
    const given = Buffer.from(authorization);
    return given.length === this.expected.length && timingSafeEqual(given, this.expected);
  }

  private header(token: string): Buffer {
    return Buffer.from(`${this.config.scheme} ${token}`);
  }

  private readToken(filename: string): string {
    let text: string;
    try {
      text = readFileSync(filename, 'utf8').trim();
    } catch (err) {
      throw new Error(
        `bearertokenauth: cannot read the token file "${filename}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
    if (text === '') throw new Error(`bearertokenauth: the token file "${filename}" is empty`);
    return text;
  }
}
