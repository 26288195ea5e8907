import { readFileSync } from 'node:fs';

/** One build stage of a Dockerfile, as far as running its image needs. */
export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly env: Record<string, string>;
  readonly workdir: string;
  readonly user: string | undefined;
  readonly volumes: string[];
  readonly expose: number[];
  readonly run: string[];
  /** `COPY` lines: sources and destination, `--from` kept in `from`. */
  readonly copies: { from: string | undefined; sources: string[]; dest: string }[];
  readonly entrypoint: string[];
  readonly cmd: string[];
  readonly healthcheck: { options: Record<string, string>; cmd: string[] } | undefined;
}

/**
 * Reads a Dockerfile into its stages: instructions joined across `\` continuations, comments
 * dropped, JSON (exec-form) arrays parsed, ARG defaults substituted. Only what the tests check.
 */
export function parseDockerfile(path: string): Stage[] {
  const lines = readFileSync(path, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  let s: Stage | undefined;
  const json = (text: string) => JSON.parse(text) as string[];
  for (const line of lines) {
    const [, op, rest = ''] = /^(\w+)\s*(.*)$/.exec(line)!;
    const value = rest.replace(/\$\{(\w+)\}/g, (_, n: string) => args[n] ?? '');
    switch (op!.toUpperCase()) {
      case 'ARG': {
        const [k, v = ''] = value.split('=');
        args[k!] = v;
        break;
      }
      case 'FROM': {
        const [from, , name] = value.split(/\s+/);
        const base = stages.find((x) => x.name === from);
        s = {
          from: from!,
          name,
          env: { ...(base?.env ?? {}) },
          workdir: base?.workdir ?? '/',
          user: base?.user,
          volumes: [],
          expose: [],
          run: [],
          copies: [],
          entrypoint: base?.entrypoint ?? [],
          cmd: base?.cmd ?? [],
          healthcheck: undefined,
        };
        stages.push(s);
        break;
      }
      case 'ENV':
        for (const m of value.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
          s!.env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
        }
        break;
      case 'WORKDIR':
        (s as { workdir: string }).workdir = value;
        break;
      case 'USER':
        (s as { user: string }).user = value;
        break;
      case 'VOLUME':
        s!.volumes.push(...(value.startsWith('[') ? json(value) : value.split(/\s+/)));
        break;
      case 'EXPOSE':
        s!.expose.push(...value.split(/\s+/).map((p) => Number(p.split('/')[0])));
        break;
      case 'RUN':
        s!.run.push(value);
        break;
      case 'COPY': {
        const words = value.split(/\s+/);
        const from = words[0]!.startsWith('--from=') ? words.shift()!.slice(7) : undefined;
        const dest = words.pop()!;
        s!.copies.push({ from, sources: words, dest });
        break;
      }
      case 'ENTRYPOINT':
        (s as { entrypoint: string[] }).entrypoint = json(value);
        break;
      case 'CMD':
        (s as { cmd: string[] }).cmd = json(value);
        break;
      case 'HEALTHCHECK': {
        const m = /^(.*?)CMD\s+(\[.*\])$/.exec(value)!;
        const options: Record<string, string> = {};
        for (const o of m[1]!.matchAll(/--([\w-]+)=(\S+)/g)) options[o[1]!] = o[2]!;
        (s as { healthcheck: Stage['healthcheck'] }).healthcheck = { options, cmd: json(m[2]!) };
        break;
      }
      default:
        break;
    }
  }
  return stages;
}
