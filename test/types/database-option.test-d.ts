import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { expectTypeOf, test } from 'vitest'
import { type ValkeyrieOptions, Valkeyrie } from '../../src/index.js'

type DatabaseOption = NonNullable<ValkeyrieOptions['database']>

test('the database option takes a better-sqlite3 connection or a Drizzle database over one, as they are', () => {
  const client = new Database(':memory:')
  expectTypeOf(client).toExtend<DatabaseOption>()
  expectTypeOf(drizzle({ client })).toExtend<DatabaseOption>()
  expectTypeOf(drizzle(':memory:')).toExtend<DatabaseOption>()
})

test('the database option is typed, not any: other values do not compile', () => {
  expectTypeOf<DatabaseOption>().not.toBeAny()
  expectTypeOf<{ prepare(source: string): unknown }>().not.toExtend<DatabaseOption>()
  // @ts-expect-error a number is not a connection
  void Valkeyrie.open(undefined, { database: 42 })
  // @ts-expect-error nor a path
  void Valkeyrie.open(undefined, { database: './app.db' })
})

test('the database option takes a node-postgres Pool or a Drizzle database over one, as they are', async () => {
  const { default: pg } = await import('pg')
  const { drizzle: drizzlePg } = await import('drizzle-orm/node-postgres')
  const pool = new pg.Pool()
  expectTypeOf(pool).toExtend<DatabaseOption>()
  expectTypeOf(drizzlePg(pool)).toExtend<DatabaseOption>()
  expectTypeOf(Valkeyrie.open({ database: drizzlePg(pool), migrations: 'apply', schema: 'kv' })).toEqualTypeOf<Promise<Valkeyrie>>()
})
