/**
 * Valkeyrie inside an application's own Drizzle database on PostgreSQL:
 * `DATABASE_URL=postgres://user@localhost:5432/app npx tsx examples/own-drizzle-postgres.ts`.
 *
 * The application's schema (examples/postgres-app/schema.ts) includes the kv tables; `drizzle-kit generate` writes
 * one migration for all of them and the application's migrator applies it. Valkeyrie then works on the
 * application's pool, over those tables, and skips its own migrations.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import pg from 'pg'
import { KvU64, Valkeyrie } from 'valkeyrie'
import { appKv, appKvMeta, appKvQueue, todos } from './postgres-app/schema.js'

const url = process.env.DATABASE_URL
if (!url) {
  console.error('set DATABASE_URL to a postgres:// URL, e.g. DATABASE_URL=postgres://postgres@localhost:5432/postgres')
  process.exit(1)
}

// `npx drizzle-kit generate --dialect postgresql --schema ./postgres-app/schema.ts`, into a scratch folder here.
const migrations = mkdtempSync(join(tmpdir(), 'example-migrations-'))
const drizzleKit = join(dirname(createRequire(import.meta.url).resolve('drizzle-kit')), 'bin.cjs')
const schemaFile = fileURLToPath(new URL('./postgres-app/schema.ts', import.meta.url))
execFileSync(process.execPath, [drizzleKit, 'generate', '--dialect', 'postgresql', '--schema', schemaFile, '--out', migrations], {
  stdio: 'pipe',
})

const pool = new pg.Pool({ connectionString: url })
const db = drizzle(pool)
// Start from nothing on every run, then apply the application's migration as its migrator would.
await pool.query('DROP SCHEMA IF EXISTS example_app CASCADE; DROP TABLE IF EXISTS drizzle.example_app_migrations')
await migrate(db, { migrationsFolder: migrations, migrationsTable: 'example_app_migrations' })
rmSync(migrations, { recursive: true, force: true })

await db.insert(todos).values({ id: 1, title: 'ship it' })

// Valkeyrie on the application's pool, over the tables its migration created.
const kv = await Valkeyrie.open({ database: db, tables: { kv: appKv, meta: appKvMeta, queue: appKvQueue } })
await kv.atomic().sum(['todo', 1, 'views'], 1n).commit()
console.log('views:', (await kv.get<KvU64>(['todo', 1, 'views'])).value?.value)
await kv.close() // leaves the application's pool open

console.log('todos:', await db.select().from(todos))
console.log('kv rows:', (await db.select({ key: appKv.key }).from(appKv)).length)
await pool.end()
