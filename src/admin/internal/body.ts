import type http from 'node:http';
import { BadRequest } from './params.js';

/** A request body over its limit: answered 413. */
export class BodyTooLarge extends Error {}

/** Reads a JSON object body of at most `limit` bytes; anything else is a `BadRequest`. */
export async function readJsonObject(
  req: http.IncomingMessage,
  limit: number,
): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) {
    req.resume();
    throw new BadRequest(
      `send the body as application/json (got ${type ? `"${type}"` : 'no content type'})`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new BodyTooLarge(`the body is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new BadRequest(
      `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequest('the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
