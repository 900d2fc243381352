import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url))

export default defineConfig({
  resolve: {
    // Examples and README snippets import the package by name; tests run them against the sources.
    alias: [
      { find: /^valkeyrie$/, replacement: src('index.ts') },
      { find: /^valkeyrie\/KvU64$/, replacement: src('u64.ts') },
      { find: /^valkeyrie\/drizzle$/, replacement: src('drizzle.ts') },
      { find: /^valkeyrie\/testing$/, replacement: src('testing/index.ts') },
      { find: /^valkeyrie\/serializers$/, replacement: src('serializers/index.ts') },
      // The serializer subpaths package.json exports, and no other module of src/serializers.
      { find: /^valkeyrie\/serializers\/(json|bson|msgpackr|cbor-x)$/, replacement: src('serializers/$1.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite, the Postgres multi-process suite, the bulk suite and the multi-process queue suite are slower
    // and run on their own: npm run test:faults (vitest.faults.config.ts), npm run test:postgres
    // (vitest.postgres.config.ts), npm run test:bulk (vitest.bulk.config.ts) and npm run test:queues
    // (vitest.queues.config.ts).
    exclude: ['test/faults/**', 'test/postgres/**', 'test/bulk/**', 'test/queues/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // A PostgreSQL server for the Postgres row of the backend matrix (test/support/backends.ts): the URL in
    // VALKEYRIE_TEST_POSTGRES_URL, else a throwaway server from the installed binaries, else those tests skip.
    globalSetup: ['test/support/postgres-setup.ts'],
    typecheck: {
      enabled: true,
      include: ['test/types/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
})
