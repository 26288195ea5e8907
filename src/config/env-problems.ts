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
    // The value at this problem's own path first: it is the one the message quotes.
    if (origin && secrets.includes(origin)) message = redact(message, origin, true);
    for (const o of secrets) if (o !== origin) message = redact(message, o, false);
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

function redact(message: string, origin: EnvOrigin, samePath: boolean): string {
  const text = origin.text;
  if (text === '') return message;
  const quoted = [`"${text}"`, JSON.stringify(text)];
  if (text.length > 60) quoted.push(`"${text.slice(0, 57)}..."`);
  let out = message;
  for (const q of quoted) out = out.split(q).join(shownAs(origin));
  // Unquoted: only where it cannot be a piece of another word or number by accident.
  if (text.length >= 6 || (samePath && text.length >= 3 && /\D/.test(text))) {
    out = out.split(text).join(shownAs(origin));
  }
  return out;
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
