// Typed linting: no-floating-promises matters most in worker loops, where a lost promise is a lost batch.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The browser names the web UI's modules use (the `globals` package is not installed). Any other
 * free name, a Node global included, is a no-undef error: this code runs in a browser. Names used
 * only in JSDoc types need no entry.
 */
const BROWSER_GLOBALS = Object.fromEntries(['window', 'document', 'fetch', 'CSS', 'Node', 'HTMLElement', 'HTMLInputElement'].map((name) => [name, 'readonly']));

export default tseslint.config(
  { ignores: ['node_modules', 'data', 'coverage', 'test-results', 'dist', '**/*.js', '**/*.mjs', '!src/ui/assets/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The web UI's plain modules, served as they are: the same typed rules as the TypeScript,
    // with types from JSDoc through tsconfig.ui.json (which has the DOM lib), and browser globals.
    // no-implicit-globals matters only if a file is ever loaded as a classic script.
    files: ['src/ui/assets/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: BROWSER_GLOBALS,
      parserOptions: { projectService: false, project: './tsconfig.ui.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      eqeqeq: 'error',
      'no-implicit-globals': 'error',
    },
  },
);
