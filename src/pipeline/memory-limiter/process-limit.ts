import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';

/** What bounds the memory this process can use, and where that bound comes from. */
export interface ProcessMemoryLimit {
  readonly bytes: number;
  /** `cgroup v2 memory.max`, `cgroup v1 memory.limit_in_bytes`, `V8 heap limit` or `machine memory`. */
  readonly source: string;
}

/** What the limit is read from; injectable so tests can play a container. */
export interface LimitSources {
  /** The text of a file, or undefined when it cannot be read. */
  readonly readFile: (path: string) => string | undefined;
  readonly heapSizeLimit: number;
  readonly machineMemory: number;
}

const SYSTEM_SOURCES: LimitSources = {
  readFile: (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  heapSizeLimit: getHeapStatistics().heap_size_limit,
  machineMemory: totalmem(),
};

/**
 * The real limit of the process: the lowest of the container's memory limit (the cgroup of this
 * process, v2 `memory.max` or v1 `memory.limit_in_bytes`, and of its parents), V8's heap limit
 * (past it the process dies of "heap out of memory", whatever the machine has) and the machine's
 * memory. The Collector's memory_limiter follows the cgroup the same way; a Node process also has
 * the heap limit, which on a large host is far below the machine's memory.
 */
export function processMemoryLimit(sources: LimitSources = SYSTEM_SOURCES): ProcessMemoryLimit {
  let best: ProcessMemoryLimit = { bytes: sources.machineMemory, source: 'machine memory' };
  const consider = (bytes: number | undefined, source: string) => {
    if (bytes !== undefined && bytes > 0 && bytes < best.bytes) best = { bytes, source };
  };
  const cgroup = cgroupLimit(sources.readFile);
  consider(cgroup?.bytes, cgroup?.source ?? '');
  consider(sources.heapSizeLimit, 'V8 heap limit');
  return best;
}

/** Values at or above this mean "no limit" (cgroup v1 writes 2^63 rounded down to a page). */
const UNLIMITED = 2 ** 62;

function cgroupLimit(readFile: LimitSources['readFile']): ProcessMemoryLimit | undefined {
  const text = readFile('/proc/self/cgroup') ?? '';
  let lowest: ProcessMemoryLimit | undefined;
  const consider = (file: string, source: string) => {
    const raw = readFile(file)?.trim();
    if (raw === undefined || raw === 'max') return;
    const n = Number(raw);
    if (Number.isFinite(n) && n > 0 && n < UNLIMITED && (!lowest || n < lowest.bytes)) {
      lowest = { bytes: n, source };
    }
  };
  for (const line of text.split('\n')) {
    // `0::/path` (v2) or `4:memory:/path` (v1; controllers may be listed together).
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (path === undefined) continue;
    if (controllers === '') {
      for (const dir of ancestors(path)) {
        consider(`/sys/fs/cgroup${dir}/memory.max`, 'cgroup v2 memory.max');
      }
    } else if (controllers!.split(',').includes('memory')) {
      for (const dir of ancestors(path)) {
        consider(
          `/sys/fs/cgroup/memory${dir}/memory.limit_in_bytes`,
          'cgroup v1 memory.limit_in_bytes',
        );
      }
    }
  }
  // Not listed (or a path from outside the container's namespace): the mount's own root.
  consider('/sys/fs/cgroup/memory.max', 'cgroup v2 memory.max');
  consider('/sys/fs/cgroup/memory/memory.limit_in_bytes', 'cgroup v1 memory.limit_in_bytes');
  return lowest;
}

/** `/a/b` -> `/a/b`, `/a`, `` (the root): a limit set on any ancestor applies too. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  let p = path.replace(/\/+$/, '');
  while (p !== '') {
    out.push(p);
    p = p.slice(0, p.lastIndexOf('/'));
  }
  out.push('');
  return out;
}
