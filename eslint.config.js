import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'bench/results/', 'examples/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // A component's internal/ is its own: others import its contract (contract.ts) or its
    // public modules. Its own files reach it as ./internal/... or ../internal/...; a path that
    // names another folder before internal/ reaches into another component, from below it
    // (../../detectors/anomaly/internal/) or from above it (src/main.ts: ./detectors/anomaly/internal/).
    // test/lint/internal-imports.test.ts holds the rule to both.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\.?/(\\.\\./)*([^./][^/]*/)+internal/',
              message:
                "another component's internal/ is private to it: import its contract.ts (or a public module) instead",
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js', '**/*.cjs', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
