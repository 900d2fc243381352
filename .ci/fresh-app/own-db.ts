// An application's own Drizzle database holding the kv tables: its drizzle-orm is the package's, so its own
// queries over the kv table type-check.
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { Valkeyrie } from 'valkeyrie'
import { kv } from 'valkeyrie/drizzle'

const client = new Database(':memory:')
const db = drizzle({ client })
const store = await Valkeyrie.open(undefined, { database: db, migrations: 'apply' })
await Valkeyrie.open(undefined, { database: client, migrations: 'skip' })
const rows: { key: Buffer; version: number }[] = db.select().from(kv).all()
await store.close()
export { rows }
