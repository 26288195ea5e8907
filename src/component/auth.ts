import type { Extension, Host } from './component.js';

/**
 * An extension that checks the credentials of incoming requests (receivers, admin API), as the
 * Collector's authenticator extensions do. `authenticate` gets the Authorization header (HTTP)
 * or metadata value (gRPC).
 */
export interface ServerAuthenticator extends Extension {
  authenticate(authorization: string | undefined): boolean;
}

function isServerAuthenticator(e: Extension | undefined): e is ServerAuthenticator {
  return e !== undefined && typeof (e as Partial<ServerAuthenticator>).authenticate === 'function';
}

/** Finds the authenticator named in a component's `auth.authenticator`, or explains why not. */
export function resolveAuthenticator(
  host: Host,
  id: string | undefined,
  owner: string,
): ServerAuthenticator | undefined {
  if (id === undefined) return undefined;
  const ext = host.getExtension(id);
  if (!ext) {
    throw new Error(
      `${owner}: auth.authenticator "${id}" is not an enabled extension; add it to "extensions" and "service.extensions"`,
    );
  }
  if (!isServerAuthenticator(ext)) {
    throw new Error(`${owner}: extension "${id}" cannot authenticate requests`);
  }
  return ext;
}
