/**
 * `service \0 operation`: the key of an operation in the incident engine's maps and in an
 * incident's counts, the same string for the same pair each time. A key built for each lookup was
 * a new concatenation that each Map lookup flattened and hashed again, several times a tagged
 * span; a kept one is hashed once (V8 keeps a string's hash with it) and found by its two parts,
 * the same few strings on every span. Bounded: beyond `max` pairs it starts over.
 */
export class OperationKeys {
  private readonly byService = new Map<string, Map<string, string>>();
  private size = 0;

  constructor(private readonly max: number) {}

  of(service: string, operation: string): string {
    let byOperation = this.byService.get(service);
    const kept = byOperation?.get(operation);
    if (kept !== undefined) return kept;
    const key = `${service}\u0000${operation}`;
    if (++this.size > this.max) {
      this.byService.clear();
      this.size = 1;
      byOperation = undefined;
    }
    if (byOperation === undefined) this.byService.set(service, (byOperation = new Map()));
    byOperation.set(operation, key);
    return key;
  }
}
