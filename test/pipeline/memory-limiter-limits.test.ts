import { describe, expect, it } from 'vitest';
import { RefusedError } from '../../src/component/errors.js';
import { memoryLimiterSchema } from '../../src/pipeline/memory-limiter/config.js';
import { MemoryLimiter, liveMemory } from '../../src/pipeline/memory-limiter/memory-limiter.js';
import {
  processMemoryLimit,
  type LimitSources,
} from '../../src/pipeline/memory-limiter/process-limit.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { CaptureExporter } from '../helpers/capture-exporter.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { memoryLogger } from '../exporters/harness.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A machine of 23 GiB with V8's 4 GiB heap limit, and the files given. */
function sources(files: Record<string, string>, heap = 4144 * MiB): LimitSources {
  return { readFile: (p) => files[p], heapSizeLimit: heap, machineMemory: 23 * GiB };
}

describe('the process memory limit (memory_limiter limit_percentage)', () => {
  it('is the V8 heap limit on a large host with no container limit (issue 17: 80% was 14 GiB)', () => {
    expect(processMemoryLimit(sources({ '/proc/self/cgroup': '0::/\n' }))).toEqual({
      bytes: 4144 * MiB,
      source: 'V8 heap limit',
    });
  });

  it("follows the cgroup v2 memory.max of this process's cgroup, or of a parent", () => {
    const files = {
      '/proc/self/cgroup': '0::/kubepods/pod1/ctr\n',
      '/sys/fs/cgroup/kubepods/pod1/ctr/memory.max': 'max\n',
      '/sys/fs/cgroup/kubepods/pod1/memory.max': `${512 * MiB}\n`,
      '/sys/fs/cgroup/memory.max': 'max\n',
    };
    expect(processMemoryLimit(sources(files))).toEqual({
      bytes: 512 * MiB,
      source: 'cgroup v2 memory.max',
    });
  });

  it('follows cgroup v1 memory.limit_in_bytes, and reads the v1 "unlimited" as no limit', () => {
    const limited = {
      '/proc/self/cgroup': '5:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n',
      '/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes': `${1 * GiB}\n`,
    };
    expect(processMemoryLimit(sources(limited))).toEqual({
      bytes: GiB,
      source: 'cgroup v1 memory.limit_in_bytes',
    });
    const unlimited = {
      '/proc/self/cgroup': '4:memory:/process_api/a9058d\n',
      '/sys/fs/cgroup/memory/process_api/a9058d/memory.limit_in_bytes': '9223372036854771712\n',
      '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
    };
    expect(processMemoryLimit(sources(unlimited)).source).toBe('V8 heap limit');
  });

  it('takes the lower of the container and the heap limit', () => {
    const files = { '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/memory.max': `${8 * GiB}` };
    expect(processMemoryLimit(sources(files)).source).toBe('V8 heap limit');
    expect(processMemoryLimit(sources(files, 16 * GiB))).toEqual({
      bytes: 8 * GiB,
      source: 'cgroup v2 memory.max',
    });
  });

  it('reads live memory from V8 without a file descriptor', () => {
    const m = process.memoryUsage();
    // The same figures process.memoryUsage() gives (heapUsed + external), within a little churn.
    expect(Math.abs(liveMemory() - (m.heapUsed + m.external))).toBeLessThan(64 * MiB);
  });
});

function limiter(probe: () => number, raw: Record<string, unknown>, limit = 4 * GiB) {
  const clock = new FakeClock();
  const { logger, lines } = memoryLogger();
  const logs = { logger, messages: () => lines.map((l) => l.msg) };
  const l = new MemoryLimiter(
    {
      id: 'memory_limiter',
      logger: logs.logger,
      clock,
      metrics: new SelfMetrics({ processMetrics: false }),
    },
    memoryLimiterSchema.parse(raw),
    'traces',
    new CaptureExporter(),
    probe,
    { bytes: limit, source: 'V8 heap limit' },
    () => undefined,
  );
  return { clock, logs, limiter: l };
}

describe('memory_limiter under hostile load', () => {
  it('never throws out of its timer when memory cannot be read (EMFILE), and says so once', async () => {
    let used = 100 * MiB;
    let failing = false;
    const {
      clock,
      logs,
      limiter: l,
    } = limiter(
      () => {
        if (failing)
          throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
        return used;
      },
      { limit_mib: 400, spike_limit_mib: 100 },
    );
    await l.start();
    used = 350 * MiB;
    clock.advance(1000);
    expect(l.refusal()).toBeInstanceOf(RefusedError);
    failing = true;
    expect(() => clock.advance(10_000)).not.toThrow();
    // The last reading stands: still refusing.
    expect(l.refusal()).toBeInstanceOf(RefusedError);
    expect(logs.messages().filter((m) => m.includes('cannot read memory usage'))).toHaveLength(1);
    failing = false;
    used = 100 * MiB;
    clock.advance(1000);
    expect(l.refusal()).toBeUndefined();
    await l.shutdown();
  });

  it('refuses a body while it arrives once the bytes held take memory over the soft limit', async () => {
    const { limiter: l } = limiter(() => 100 * MiB, { limit_mib: 400, spike_limit_mib: 100 });
    await l.start();
    // 100 MiB used, soft limit 300 MiB: 150 MiB of bodies in flight fit, 250 MiB do not.
    expect(l.holdBody(150 * MiB)).toBeUndefined();
    const refused = l.holdBody(60 * MiB);
    expect(refused).toBeInstanceOf(RefusedError);
    expect(refused!.message).toContain('soft limit of 300 MiB');
    // The receiver lets go of what it held: room again.
    l.holdBody(-210 * MiB);
    expect(l.holdBody(50 * MiB)).toBeUndefined();
    await l.shutdown();
  });

  it('counts body bytes that arrived since the last reading only once', async () => {
    let used = 100 * MiB;
    const { clock, limiter: l } = limiter(() => used, { limit_mib: 400, spike_limit_mib: 100 });
    await l.start();
    expect(l.holdBody(150 * MiB)).toBeUndefined();
    // The next reading includes those 150 MiB: they are not added again.
    used = 250 * MiB;
    clock.advance(1000);
    expect(l.holdBody(10 * MiB)).toBeUndefined();
    expect(l.holdBody(45 * MiB)).toBeInstanceOf(RefusedError);
    await l.shutdown();
  });

  it('warns at start when limit_mib is above what the process can use', async () => {
    const { logs, limiter: l } = limiter(() => 100 * MiB, { limit_mib: 8192 }, 4144 * MiB);
    await l.start();
    expect(logs.messages().join('\n')).toContain(
      'limit_mib 8192 is above what this process can use (V8 heap limit: 4144 MiB)',
    );
    await l.shutdown();
  });
});
