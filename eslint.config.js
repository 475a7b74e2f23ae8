import tseslint from 'typescript-eslint';
import importBoundaries from './scripts/eslint-import-boundaries.js';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dashboard/assets/**',
      'node_modules/**',
      'apis/generated/**',
      'coverage/**',
      'scratch/**',
      '**/testdata/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    plugins: { trellis: { rules: { 'import-boundaries': importBoundaries } } },
    rules: {
      'trellis/import-boundaries': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['cli/**', 'scripts/**', 'bench/**', 'test/**', 'examples/**'],
    rules: { 'no-console': 'off' },
  },
);
