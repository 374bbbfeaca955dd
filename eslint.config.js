// Typed linting: no-floating-promises matters most in worker loops, where a lost promise is a lost batch.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The browser names the web UI's modules use (the `globals` package is not installed). Any other
 * free name, a Node global included, is a no-undef error: this code runs in a browser. Names used
 * only in JSDoc types need no entry.
 */
const BROWSER_GLOBALS = Object.fromEntries(['window', 'document', 'fetch', 'CSS', 'Node', 'HTMLElement', 'HTMLInputElement'].map((name) => [name, 'readonly']));

/**
 * Which way imports point (docs/architecture.md, "Folders"), checked per folder with ESLint's own
 * no-restricted-imports. Imports are relative, so whether one leaves its folder depends on how deep
 * the importing file sits: each folder gets one block per depth, whose patterns see the path as
 * written. `only`: the folders (from src/) an import may reach once it leaves its own; `never`:
 * folders or files it may not reach; `drivers`: no database driver; `bare: false`: no package or
 * `node:` import at all (browser code). A file's no-restricted-imports comes from one block only
 * (ESLint does not merge a rule's options across blocks), so each folder lists all its rules here.
 */
const DRIVERS = {
  regex: '^(better-sqlite3|pg)(/|$)',
  caseSensitive: true,
  message: 'Only src/store/sqlite and src/store/postgres know a database driver; use the store port (docs/architecture.md).',
};
const MAX_DEPTH = 4;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function layer(folder, { only, never = [], drivers = false, bare = true, why }) {
  const folderDepth = folder.split('/').length;
  const blocks = [];
  for (let depth = 0; depth < MAX_DEPTH; depth += 1) {
    const outOfFolder = `^(\\.\\./){${depth + 1}}`;
    const toSrc = `^(\\.\\./){${folderDepth + depth}}`;
    const patterns = [];
    if (only) {
      const rest = folderDepth - 1 > 0 ? `(\\.\\./){${folderDepth - 1}}` : '';
      patterns.push({
        regex: `${outOfFolder}(?!${rest}(${only.map(escape).join('|')})/)`,
        caseSensitive: true,
        message: `src/${folder} imports only ${only.map((f) => `src/${f}`).join(', ')}: ${why}`,
      });
    }
    for (const target of never)
      patterns.push({ regex: `${toSrc}${escape(target)}(/|$)`, caseSensitive: true, message: `src/${folder} never imports src/${target}: ${why}` });
    if (drivers) patterns.push(DRIVERS);
    if (!bare)
      patterns.push({
        regex: '^(?![./])',
        caseSensitive: true,
        message: `src/${folder} is browser code, served as it is: only relative imports of its own modules`,
      });
    blocks.push({ files: [`src/${folder}/${'*/'.repeat(depth)}*.{ts,js}`], rules: { 'no-restricted-imports': ['error', { patterns }] } });
  }
  return blocks;
}

/** A store implementation: its SQL dialect, its driver and its opener are for the composition root. */
const STORE_INSIDES = ['store/sqlite', 'store/postgres', 'store/open.ts'];
/** What reaches a client (HTTP, the CLI) or wires the process: nothing on the data path imports them. */
const FRONT_ENDS = ['server', 'cli', 'app.ts'];

const LAYERS = [
  ...layer('core', { only: ['core'], why: 'the terms and error types everything shares depend on nothing of Tailor’s.' }),
  ...layer('identity', { only: ['identity', 'core'], why: 'normalizing and hashing are pure.' }),
  ...layer('x', { only: ['x', 'core'], why: 'the X client knows X and the core terms, nothing of the engine.' }),
  ...layer('emulator', { only: ['emulator'], why: 'the emulator is X as documented, a separate world: it checks Tailor, so it shares none of its code.' }),
  ...layer('http', { only: ['http', 'core', 'x'], why: 'the HTTP plumbing sits below server/ and sources/, which both use it.' }),
  ...layer('sources', {
    never: [...FRONT_ENDS, ...STORE_INSIDES],
    drivers: true,
    why: 'server/ mounts sources/, so sources/ may not import it back; sources know the store port only.',
  }),
  ...layer('services', {
    never: [...FRONT_ENDS, 'sources', 'http', ...STORE_INSIDES],
    drivers: true,
    why: 'services are shared by HTTP and the CLI, so they throw refusals (core/errors.ts), not HTTP errors, and know the store port only.',
  }),
  ...layer('sync', {
    never: [...FRONT_ENDS, 'sources', 'services', 'http', ...STORE_INSIDES],
    drivers: true,
    why: 'workers know the store port and the X client, never a database or a front end.',
  }),
  ...layer('alerts', {
    never: [...FRONT_ENDS, 'sources', 'services', 'http', ...STORE_INSIDES],
    drivers: true,
    why: 'the alert watch and webhook delivery know the store port, like the sync workers, never a database or a front end.',
  }),
  ...layer('doctor', {
    never: [...FRONT_ENDS, 'sources', 'http', ...STORE_INSIDES],
    drivers: true,
    why: 'the setup checks are shared by the CLI and the UI: the database is probed through what the caller passes (store/probe.ts), the store through the port.',
  }),
  ...layer('ui/assets', { only: ['ui/assets'], bare: false, why: 'browser code, served as it is.' }),
  ...layer('client', {
    only: ['client'],
    bare: false,
    why: 'the typed client (tailor/client) ships to integrators: its generated types and fetch, nothing of the server.',
  }),
];

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
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
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
  ...LAYERS,
);
