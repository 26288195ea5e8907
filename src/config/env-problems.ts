import type { EnvOrigin, EnvOrigins } from './env.js';

/**
 * Rewrites config problems about values that came from `${env:...}` references:
 *
 * - a value from a variable that is not set (and has no default) is named as such, instead of a
 *   confusing complaint about an empty value;
 * - a value from a variable that is set is never echoed (it may be a secret): the message says
 *   `the value of ${env:NAME}` where it would have quoted it;
 * - otherwise, the variable is named, so that the reader knows what to change.
 */
export function explainEnvProblems(problems: readonly string[], origins: EnvOrigins): string[] {
  if (origins.size === 0) return [...problems];
  const secrets = [...origins.values()].filter((o) =>
    o.references.some((r) => r.resolution === 'set'),
  );
  return problems.map((problem) => {
    const colon = problem.indexOf(': ');
    const path = colon < 0 ? '' : problem.slice(0, colon);
    const origin = origins.get(path);
    if (origin && origin.references.some((r) => r.resolution === 'unset')) {
      return `${path}: ${unsetMessage(origin)}`;
    }
    let message = colon < 0 ? problem : problem.slice(colon + 2);
    // The value at this problem's own path first: it is the one the message quotes. Each value is
    // replaced by a mark, and the marks by their words at the end, so that no value is looked
    // for in the words that show one ("the value of ${env:X}", for a value "value"), including
    // those the message already holds (`shownFor`).
    secrets.forEach((o, i) => (message = message.split(shownAs(o)).join(markOf(i))));
    if (origin && secrets.includes(origin)) message = redact(message, origin, secrets, true);
    for (const o of secrets) if (o !== origin) message = redact(message, o, secrets, false);
    message = message.replace(MARK, (mark) => shownAs(secrets[markIndex(mark)]!));
    if (origin && !message.includes('${env:')) message += ` (${fromWhere(origin)})`;
    return colon < 0 ? message : `${path}: ${message}`;
  });
}

/** For `formatIssues`: how to show the value at a path that came from a set variable. */
export function shownFor(origins: EnvOrigins): (path: string) => string | undefined {
  return (path) => {
    const o = origins.get(path);
    return o && o.references.some((r) => r.resolution === 'set') ? shownAs(o) : undefined;
  };
}

/** How a message shows a value that came from the environment. */
function shownAs(origin: EnvOrigin): string {
  return origin.whole
    ? `the value of ${origin.template.replace(/:-[^}]*\}$/, '}')}`
    : `"${origin.template}"`;
}

/**
 * A value's mark while messages are redacted: its index in two digits of base 0x700 written in
 * private-use characters, between two more; no value's match can start or end inside one.
 */
const MARK_BASE = 0xe100;
const MARK_DIGITS = 0x700;
const MARK = /\ue000[\ue100-\ue7ff]{2}\ue001/gu;

function markOf(index: number): string {
  const digit = (d: number) => String.fromCharCode(MARK_BASE + (d % MARK_DIGITS));
  return `\ue000${digit(Math.floor(index / MARK_DIGITS))}${digit(index)}\ue001`;
}

function markIndex(mark: string): number {
  return (mark.charCodeAt(1) - MARK_BASE) * MARK_DIGITS + (mark.charCodeAt(2) - MARK_BASE);
}

function redact(
  message: string,
  origin: EnvOrigin,
  secrets: readonly EnvOrigin[],
  samePath: boolean,
): string {
  const text = origin.text;
  if (text === '') return message;
  const mark = markOf(secrets.indexOf(origin));
  const quoted = [`"${text}"`, JSON.stringify(text)];
  if (text.length > 60) quoted.push(`"${text.slice(0, 57)}..."`);
  let out = message;
  for (const q of quoted) out = out.split(q).join(mark);
  // Unquoted: only where it cannot be a piece of another word or number by accident.
  if (text.length >= 6 || (samePath && text.length >= 3 && /\D/.test(text))) {
    out = replaceEchoes(out, text, mark);
  }
  return out;
}

/**
 * Replaces `text` where the message echoes it: standing alone, not inside a longer word, number,
 * address or URL. The message's own words and examples stay whole (a value `host` in "host:port",
 * `localhost:16686` in "http://localhost:16686" were replaced, garbling the message).
 */
function replaceEchoes(message: string, text: string, by: string): string {
  let out = '';
  let from = 0;
  let at = message.indexOf(text);
  while (at >= 0) {
    if (standsAlone(message, at, at + text.length)) {
      out += message.slice(from, at) + by;
      from = at + text.length;
      at = message.indexOf(text, from);
    } else {
      at = message.indexOf(text, at + 1);
    }
  }
  return out + message.slice(from);
}

/** Characters that continue a word, a number, an address or a URL. */
const CONTINUES = /[\p{L}\p{N}_\-/@%+~#?&=]/u;

function standsAlone(message: string, start: number, end: number): boolean {
  const before = message[start - 1];
  const after = message[end];
  if (before !== undefined && (CONTINUES.test(before) || before === '.' || before === ':')) {
    return false;
  }
  if (after === undefined) return true;
  if (CONTINUES.test(after)) return false;
  // "host:port", "example.com": a dot or colon followed by more of the token continues it.
  const next = message[end + 1];
  return !((after === '.' || after === ':') && next !== undefined && !/\s/.test(next));
}

function unsetMessage(origin: EnvOrigin): string {
  const names = origin.references.filter((r) => r.resolution === 'unset').map((r) => r.name);
  const list = [...new Set(names)];
  const which = origin.whole
    ? `\${env:${list[0]}}`
    : `"${origin.template}": ${list.map((n) => `\${env:${n}}`).join(', ')}`;
  return `${which} ${list.length === 1 ? 'is' : 'are'} not set and ${list.length === 1 ? 'has' : 'have'} no default: set ${list.join(', ')}, or give a default as in \${env:${list[0]}:-value}`;
}

function fromWhere(origin: EnvOrigin): string {
  const set = origin.references.filter((r) => r.resolution === 'set').map((r) => r.name);
  const defaulted = origin.references.filter((r) => r.resolution === 'default').map((r) => r.name);
  const parts: string[] = [];
  if (set.length > 0) parts.push(`set by ${set.join(', ')}`);
  if (defaulted.length > 0) {
    parts.push(
      `the default of ${defaulted.map((n) => `\${env:${n}}`).join(', ')}, which ${defaulted.length === 1 ? 'is' : 'are'} not set`,
    );
  }
  return parts.join('; ');
}
