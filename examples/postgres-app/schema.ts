/**
 * An application's Drizzle schema on PostgreSQL, with Valkeyrie's tables in it: its own `drizzle-kit generate`
 * writes the migration that creates them beside its other tables (see examples/own-drizzle-postgres.ts).
 */
import { integer, pgSchema, text } from 'drizzle-orm/pg-core'
import { createPgKvTables } from 'valkeyrie/drizzle'

/** Everything of this example lives in one Postgres schema, so that it can start from nothing each time. */
export const app = pgSchema('example_app')

export const todos = app.table('todos', { id: integer('id').primaryKey(), title: text('title').notNull() })

// Valkeyrie's tables, under names (and in the schema) this application chose.
export const { kv: appKv, meta: appKvMeta, queue: appKvQueue } = createPgKvTables({ kv: 'app_kv', meta: 'app_kv_meta' }, { schema: 'example_app' })
