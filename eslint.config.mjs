// ESLint for the extension (src, test), the runtime (src, test, bench) and the build and helper
// scripts. TypeScript files are linted with type information (projectService: each file uses the
// tsconfig.json nearest to it), so rules such as no-floating-promises can see what a call returns;
// plain JavaScript files get the untyped rules only. Formatting is Prettier's job, not ESLint's.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['**/node_modules/', '**/dist/', '**/out/', '**/.cache/', '**/.vscode-test/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits or catches loses its rejection (Node ends the process on it).
      // node:test's describe/it return a promise the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }],
        },
      ],
    },
  },
  {
    rules: {
      eqeqeq: ['error', 'always'],
      // Matching terminal escapes (\x1b) and NUL bytes is what those regular expressions are for.
      'no-control-regex': 'off',
      // `_`-prefixed names are unused on purpose (a callback's leading parameters, a rest sibling).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    // The webview's script runs in the browser, inside VS Code's webview frame.
    files: ['media/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, acquireVsCodeApi: 'readonly' } },
  },
);
