import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);
/** Folders whose code must stay pure: no Node APIs, no I/O, no SDK runtime packages. */
const pureFolders = ['core/**', 'workflows/**'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.venv/**', '.ferry/**', 'examples/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: pureFolders,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins,
            '@temporalio/activity',
            '@temporalio/client',
            '@temporalio/worker',
            'ssh2',
            'simple-git',
            '@aws-sdk/client-s3',
            'pino',
          ],
          patterns: [{ group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: 'workflows see activities only as types' }],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval'],
    },
  },
  { files: ['**/*.mjs', '**/*.js'], ...tseslint.configs.disableTypeChecked },
);
