// ESLint flat config. The pure core (src/core) may not reach the file system, the network, the
// database, child processes or the clock: those belong at the edges (store, http, upstream, cli).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const impureModules = [
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'net',
  'node:net',
  'http',
  'node:http',
  'https',
  'node:https',
  'http2',
  'node:http2',
  'dgram',
  'node:dgram',
  'dns',
  'node:dns',
  'child_process',
  'node:child_process',
  'worker_threads',
  'node:worker_threads',
  'os',
  'node:os',
  'better-sqlite3',
  'fastify',
  'yauzl',
  'pino',
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'bench/out/', 'bench/bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        Buffer: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // The status page's script (static/status.js) runs in the browser, served as it is: plain ES
  // module JavaScript, no bundler, so it may use browser globals and nothing of Node.
  {
    files: ['static/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        document: 'readonly',
        navigator: 'readonly',
        fetch: 'readonly',
        HTMLInputElement: 'readonly',
        HTMLFormElement: 'readonly',
        HTMLTextAreaElement: 'readonly',
        HTMLButtonElement: 'readonly',
        process: 'off',
        Buffer: 'off',
        setImmediate: 'off',
      },
    },
  },
  ...[
    { files: ['src/core/*.ts'], outside: ['../*'] },
    { files: ['src/core/*/**/*.ts'], outside: ['../../*'] },
  ].map(({ files, outside }) => ({
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: impureModules.map((name) => ({
            name,
            message: 'src/core is pure: no fs, network, database, processes or clock. Do I/O at the edge.',
          })),
          patterns: [{ group: outside, message: 'src/core may only import from src/core.' }],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'src/core is pure: no network.' },
        { name: 'process', message: 'src/core is pure: no process state.' },
        { name: 'setTimeout', message: 'src/core is pure: no clock.' },
        { name: 'setInterval', message: 'src/core is pure: no clock.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'src/core is pure: no clock. Pass time in.' },
        { object: 'performance', property: 'now', message: 'src/core is pure: no clock.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'src/core is pure: no clock. Pass time in.',
        },
      ],
    },
  })),
);
