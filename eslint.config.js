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
})
