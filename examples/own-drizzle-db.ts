/**
 * Valkeyrie inside an application's own Drizzle database: `npx tsx examples/own-drizzle-db.ts`.
 *
 * In a real application the kv tables sit in your schema file and your own `drizzle-kit generate` writes the
 * migration (see docs/storage.md, "Your own Drizzle database"). To stay self-contained, this example creates the same
 * tables with the SQL drizzle-kit generates for them.
 */
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { KvU64, Valkeyrie } from 'valkeyrie'
import { createKvTables } from 'valkeyrie/drizzle'

// schema.ts: your tables, and Valkeyrie's under names you choose (written here only).
export const todos = sqliteTable('todos', { id: integer('id').primaryKey(), title: text('title').notNull() })
export const { kv: appKv, meta: appKvMeta, queue: appKvQueue } = createKvTables({ kv: 'app_kv', meta: 'app_kv_meta' })

// What `drizzle-kit generate` writes for that schema, applied here by hand instead of by your migrator.
const client = new Database(':memory:')
client.exec(`
  CREATE TABLE todos (id integer PRIMARY KEY NOT NULL, title text NOT NULL);
  CREATE TABLE app_kv (key blob PRIMARY KEY NOT NULL, value blob NOT NULL, encoding integer NOT NULL,
    version integer NOT NULL, expires_at integer);
  CREATE INDEX app_kv_expires_at_idx ON app_kv (expires_at);
  CREATE TABLE app_kv_meta (id integer PRIMARY KEY NOT NULL, version integer DEFAULT 0 NOT NULL,
    serializer text NOT NULL, format_version integer NOT NULL);
  CREATE TABLE app_kv_queue (id integer PRIMARY KEY NOT NULL, value blob NOT NULL, encoding integer NOT NULL,
    ready_at integer NOT NULL, lease_token text, attempts integer NOT NULL, keys_if_undelivered text NOT NULL,
    backoff_schedule text NOT NULL);
  CREATE INDEX app_kv_queue_ready_at_idx ON app_kv_queue (ready_at, id);
`)
const db = drizzle({ client })

db.insert(todos).values({ id: 1, title: 'ship it' }).run()

// Valkeyrie on the same connection, over the tables of your schema; your migrations own them, so ours are skipped.
const kv = await Valkeyrie.open({ database: db, tables: { kv: appKv, meta: appKvMeta, queue: appKvQueue } })
await kv.atomic().sum(['todo', 1, 'views'], 1n).commit()
console.log('views:', (await kv.get<KvU64>(['todo', 1, 'views'])).value?.value)

// Valkeyrie refuses to write while your connection is inside a transaction of yours: a rollback would undo it.
client.exec('BEGIN')
await kv.set(['draft'], 1).catch((error: Error) => console.log('refused:', error.message))
client.exec('ROLLBACK')

await kv.close() // leaves your connection open

console.log('todos:', db.select().from(todos).all())
console.log('kv rows:', db.select({ key: appKv.key }).from(appKv).all().length)
client.close()
