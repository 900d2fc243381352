import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { integer, sqliteTable } from 'drizzle-orm/sqlite-core'
import { expectTypeOf, test } from 'vitest'
import { createKvTables } from '../../src/drizzle.js'
import { memoryDriver, Valkeyrie } from '../../src/index.js'

const { kv, meta } = createKvTables({ kv: 'app_kv', meta: 'app_kv_meta' })
const todos = sqliteTable('todos', { id: integer('id').primaryKey() })

test('Valkeyrie.open takes the options first when there is no path', async () => {
  const db = drizzle({ client: new Database(':memory:') })
  expectTypeOf(Valkeyrie.open({ database: db, tables: { kv, meta } })).toEqualTypeOf<Promise<Valkeyrie>>()
  expectTypeOf(Valkeyrie.open(undefined, { database: db, tables: { kv, meta } })).toEqualTypeOf<Promise<Valkeyrie>>()
  expectTypeOf(Valkeyrie.open({ database: db, tables: createKvTables({ kv: 'a', meta: 'b' }) })).toEqualTypeOf<Promise<Valkeyrie>>()
  expectTypeOf(Valkeyrie.open({ database: db.$client, tables: { kv: 'app_kv', meta: 'app_kv_meta' } })).toEqualTypeOf<Promise<Valkeyrie>>()
  expectTypeOf(Valkeyrie.open({ database: db, durability: 'relaxed' })).toEqualTypeOf<Promise<Valkeyrie>>()
  expectTypeOf(Valkeyrie.open()).toEqualTypeOf<Promise<Valkeyrie>>()
  expectTypeOf(Valkeyrie.open('./data.db', memoryDriver)).toEqualTypeOf<Promise<Valkeyrie>>()
  // @ts-expect-error: a driver factory goes second, after the path (or undefined)
  void Valkeyrie.open(memoryDriver)
  // @ts-expect-error: options first leave no second argument
  void Valkeyrie.open({ database: db }, { sweepInterval: 0 })
  // @ts-expect-error: only the tables createKvTables() builds
  void Valkeyrie.open({ database: db, tables: { kv: todos } })
  // @ts-expect-error: the meta table is not the kv table
  void Valkeyrie.open({ database: db, tables: { kv: meta } })
})
