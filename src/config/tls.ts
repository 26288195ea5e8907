import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import type { TlsClientConfig, TlsServerConfig } from './schema.js';

/** Reads the files named in server TLS settings. Errors name the setting and the file. */
export function serverTlsOptions(
  tls: TlsServerConfig,
): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
  return {
    cert: read(tls.cert_file, 'tls.cert_file'),
    key: read(tls.key_file, 'tls.key_file'),
    ca: tls.client_ca_file
      ? read(tls.client_ca_file, 'tls.client_ca_file')
      : tls.ca_file
        ? read(tls.ca_file, 'tls.ca_file')
        : undefined,
    minVersion: tls.min_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
    requestCert: tls.client_ca_file !== undefined,
    rejectUnauthorized: tls.client_ca_file !== undefined,
  };
}

export interface ClientTls {
  ca: Buffer | undefined;
  cert: Buffer | undefined;
  key: Buffer | undefined;
  rejectUnauthorized: boolean;
  servername: string | undefined;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/** Client TLS material, or undefined when `insecure` (plaintext) is set. */
export function clientTlsOptions(tls: TlsClientConfig): ClientTls | undefined {
  if (tls.insecure) return undefined;
  return {
    ca: tls.ca_file ? read(tls.ca_file, 'tls.ca_file') : undefined,
    cert: tls.cert_file ? read(tls.cert_file, 'tls.cert_file') : undefined,
    key: tls.key_file ? read(tls.key_file, 'tls.key_file') : undefined,
    rejectUnauthorized: !tls.insecure_skip_verify,
    servername: tls.server_name_override,
    minVersion: tls.min_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
  };
}

function read(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(
      `${setting}: cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
}
