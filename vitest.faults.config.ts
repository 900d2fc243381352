import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

/** The fault suite: crashes, many processes, corrupt files, a full disk, fuzzing (npm run test:faults). */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    // One file at a time: the crash and many-writer tests want both cores.
    fileParallelism: false,
  },
})
