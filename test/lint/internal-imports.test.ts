import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

/**
 * The lint rule that keeps a component's internal/ its own (eslint.config.js): the rule as the
 * repository configures it, applied to one import at a time from a file at a given place in src/.
 */
const configUrl = new URL('../../eslint.config.js', import.meta.url).href;
const config = ((await import(configUrl)) as { default: Linter.Config[] }).default;
const block = config.find((c) => c.rules?.['no-restricted-imports']);
const rules = { 'no-restricted-imports': block!.rules!['no-restricted-imports']! };

function problems(file: string, from: string): string[] {
  const linter = new Linter();
  const code = `import { x } from '${from}';\nexport const y = x;\n`;
  return linter
    .verify(
      code,
      [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, rules }],
      file,
    )
    .map((m) => m.ruleId ?? m.message);
}

describe("lint: another component's internal/", () => {
  it('applies to the files under src/', () => {
    expect(block?.files).toEqual(['src/**/*.ts']);
  });

  it.each([
    ['src/admin/internal/routes.ts', '../../detectors/anomaly/internal/anomaly-record.js'],
    ['src/cli/replay-command.ts', '../detectors/anomaly/internal/level.js'],
    ['src/main.ts', './detectors/anomaly/internal/level.js'],
    ['src/components.ts', './connectors/llm-summary/internal/holding/index.js'],
    [
      'src/connectors/llm-summary/internal/incidents.ts',
      '../../../detectors/anomaly/internal/severity.js',
    ],
  ])('forbids %s importing %s', (file, from) => {
    expect(problems(file, from)).toEqual(['no-restricted-imports']);
  });

  it.each([
    ['src/connectors/llm-summary/summary-engine.ts', './internal/holding/index.js'],
    ['src/detectors/anomaly/replay/score.ts', '../internal/level.js'],
    ['src/connectors/llm-summary/internal/writing/prompt.ts', '../holding/index.js'],
    ['src/admin/internal/routes.ts', '../../detectors/anomaly/contract.js'],
    ['src/main.ts', './detectors/anomaly/anomaly-processor.js'],
  ])('allows %s importing %s', (file, from) => {
    expect(problems(file, from)).toEqual([]);
  });
});
