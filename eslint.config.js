import neostandard from 'neostandard'

export default neostandard({
  ts: true,
  ignores: ['dist/**', 'coverage/**']
}).concat({
  // The fire page's script runs in the browser.
  files: ['public/**/*.js'],
  languageOptions: {
    globals: { EventSource: 'readonly', location: 'readonly', document: 'readonly', fetch: 'readonly', sessionStorage: 'readonly' }
  }
}, {
  // Rules files name their secrets as ${VARIABLE}s: those strings are meant.
  files: ['src/alerts/**', 'test/alerts/**', 'test/http/alerts.test.ts'],
  rules: { 'no-template-curly-in-string': 'off' }
}, {
  // An ES import of node:http builds its whole namespace, and its WebSocket
  // getter loads undici: 4 to 13 MB of memory in a server that never fetches.
  files: ['src/**/*.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': ['error', {
      paths: ['http', 'node:http'].map((name) => ({ name, allowTypeImports: true, message: 'require it with createRequire, as src/http/errors.ts does' }))
    }]
  }
})
