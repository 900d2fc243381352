import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

/** The bulk suite: 100,000 entries of over 1 KB through the command line and the library (npm run test:bulk). */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['test/bulk/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
