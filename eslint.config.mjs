// ESLint: typescript-eslint's type-aware recommended rules. A floating promise in the extension
// host is an unhandled rejection nobody sees, so no-floating-promises is an error.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'media/**', 'node_modules/**', 'test/harness/**', 'test/e2e/**', 'bench/extension/run.mjs', 'bench/extension/profileSummary.mjs', 'bench/galleryBench.mjs', 'bench/extension/probe/**', '*.mjs', 'scripts/*.mjs', '.vscode-test/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Structure checks share one async signature; some need no await. Not a bug.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
