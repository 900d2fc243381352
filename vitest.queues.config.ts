import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

/**
 * The multi-process queue suite (npm run test:queues): consumer processes sharing one queue on a SQLite file and on
 * the run's Postgres server (see test/support/postgres-setup.ts), and a consumer killed mid-handler.
 */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['test/queues/**/*.test.ts'],
    globalSetup: ['test/support/postgres-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    // One file at a time: the many-process tests want both cores.
    fileParallelism: false,
  },
})
