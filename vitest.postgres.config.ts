import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

/**
 * The Postgres multi-process suite (npm run test:postgres): real processes on the run's server (see
 * test/support/postgres-setup.ts), and a server of its own stopped and restarted under a write stream.
 */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['test/postgres/**/*.test.ts'],
    globalSetup: ['test/support/postgres-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    // One file at a time: the many-process tests want both cores.
    fileParallelism: false,
  },
})
