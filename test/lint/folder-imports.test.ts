import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * docs/architecture.md, "Layers without cycles", lists what each folder of src/ imports, "as
 * measured from the imports of src/". This measures them, from the source files as they are, and
 * holds the list (and its claim that folders import downward only) to them.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const src = join(root, 'src');

/** `admin/` for a file under src/admin/, `main.ts` for src/main.ts. */
function unit(file: string): string {
  const [first, ...rest] = relative(src, file).split('/');
  return rest.length > 0 ? `${first}/` : first!;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? tsFiles(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

/** The units of src/ each unit imports (type-only imports included: they tie the code too). */
function measured(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const specifier =
    /(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'/g;
  for (const file of tsFiles(src)) {
    const from = unit(file);
    for (const m of readFileSync(file, 'utf8').matchAll(specifier)) {
      const target = normalize(join(dirname(file), m[1] ?? m[2]!)).replace(/\.js$/, '.ts');
      const to = unit(target);
      if (to === from) continue;
      out.set(from, (out.get(from) ?? new Set()).add(to));
    }
  }
  return out;
}

/** The list in docs/architecture.md: `admin/  -> connectors/ (contract), detectors/ ...`. */
function documented(): Map<string, Set<string>> {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Layers without cycles'));
  const block = /```\n([\s\S]*?)```/.exec(section)![1]!;
  const out = new Map<string, Set<string>>();
  for (const line of block.split('\n').filter((l) => l.includes('->'))) {
    const [left, right] = line.split('->').map((s) => s.trim());
    const targets = right!.startsWith('nothing')
      ? []
      : right!.split(',').map((t) => t.replace(/\(.*?\)/g, '').trim());
    for (const name of left!.split(',').map((s) => s.trim())) {
      if (targets.length > 0) out.set(name, new Set(targets));
      else out.set(name, new Set());
    }
  }
  return out;
}

const sorted = (m: Map<string, Set<string>>) =>
  Object.fromEntries(
    [...m]
      .filter(([, v]) => v.size > 0)
      .map(([k, v]) => [k, [...v].sort()])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );

describe('docs/architecture.md: what each folder of src/ imports', () => {
  const docs = documented();
  const code = measured();
  code.delete('cli.ts'); // the entry point: it only calls cli/

  it('lists what the code imports, folder by folder', () => {
    expect(sorted(code)).toEqual(sorted(docs));
  });

  it('has otlp/ and net/ import nothing of the project', () => {
    expect([...(code.get('otlp/') ?? [])]).toEqual([]);
    expect([...(code.get('net/') ?? [])]).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const cycles = new Set<string>();
    const done = new Set<string>();
    const visit = (node: string, path: string[]) => {
      if (path.includes(node)) {
        cycles.add([...path.slice(path.indexOf(node)), node].join(' -> '));
        return;
      }
      if (done.has(node)) return;
      for (const next of code.get(node) ?? []) visit(next, [...path, node]);
      done.add(node);
    };
    for (const node of code.keys()) visit(node, []);
    expect([...cycles]).toEqual([]);
  });
});
