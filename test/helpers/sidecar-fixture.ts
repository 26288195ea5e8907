import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { Sidecar } from '../../src/main.js';
import { Capture } from '../detectors/helpers/capture-exporter.js';

/**
 * What each test that runs a whole sidecar sets up and tears down: a fresh temporary folder (for
 * its SQLite files), a fresh capture exporter, and a slot for the sidecar the test starts, which
 * is shut down after the test before the folder is removed. Call it in a `describe` block and
 * read the fields inside the tests (they change from test to test).
 *
 * ```ts
 * const f = useSidecarFixture('hourglass-level-pool-');
 * it('...', async () => {
 *   f.sidecar = await startTestSidecar({ clock, anomaly: { storage: f.path('hg.db') }, factories: [f.capture.factory] });
 * });
 * ```
 */
export interface SidecarFixture {
  /** This test's temporary folder. */
  readonly dir: string;
  /** This test's capture exporter (register `capture.factory` to use it). */
  readonly capture: Capture;
  /** The sidecar this test started, if any: shut down after the test. */
  sidecar: Sidecar | undefined;
  /** `name` in this test's folder. */
  path(name: string): string;
}

/** The fixture for the tests of the calling `describe` block; `prefix` names the folders. */
export function useSidecarFixture(prefix: string): SidecarFixture {
  let dir: string | undefined;
  let capture: Capture | undefined;
  const outside = () => new Error('the sidecar fixture is read inside a test');
  const fixture: SidecarFixture = {
    get dir() {
      if (dir === undefined) throw outside();
      return dir;
    },
    get capture() {
      if (capture === undefined) throw outside();
      return capture;
    },
    sidecar: undefined,
    path: (name) => join(fixture.dir, name),
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    capture = new Capture();
  });
  afterEach(async () => {
    try {
      await fixture.sidecar?.shutdown();
    } finally {
      fixture.sidecar = undefined;
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      dir = capture = undefined;
    }
  });
  return fixture;
}
