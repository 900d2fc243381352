/**
 * Valkeyrie on PostgreSQL: `DATABASE_URL=postgres://user@localhost:5432/app npx tsx examples/postgres.ts`.
 *
 * The same API as on a SQLite file; `npm install pg` first. Every process (and host) that opens the same database
 * and schema shares one store, with one order of versionstamps.
 */
import { Valkeyrie } from 'valkeyrie'

const url = process.env.DATABASE_URL
if (!url) {
  console.error('set DATABASE_URL to a postgres:// URL, e.g. DATABASE_URL=postgres://postgres@localhost:5432/postgres')
  process.exit(1)
}

// The tables live in the schema given (created with them on first open; default: public).
const db = await Valkeyrie.open(url, { schema: 'valkeyrie_example' })
for await (const entry of db.list({ prefix: ['example'] })) await db.delete(entry.key)

await db.set(['example', 'users', 'ada'], { name: 'Ada Lovelace', born: new Date('1815-12-10') })
console.log('read back:', (await db.get(['example', 'users', 'ada'])).value)

// Commits made in the same turn of the event loop share one transaction: one lock, one round trip pair.
const results = await Promise.all(Array.from({ length: 100 }, (_, i) => db.set(['example', 'events', i], { i })))
console.log('100 commits, distinct versionstamps:', new Set(results.map((r) => r.versionstamp)).size)

// An optimistic transaction: it commits only if the key has not changed since it was read.
const entry = await db.get<{ name: string }>(['example', 'users', 'ada'])
const renamed = await db
  .atomic()
  .check(entry)
  .set(['example', 'users', 'ada'], { ...entry.value, name: 'Augusta Ada King' })
  .sum(['example', 'renames'], 1n)
  .commit()
console.log('renamed:', renamed.ok)

const events = await Array.fromAsync(db.list({ prefix: ['example', 'events'] }, { limit: 3, reverse: true }))
console.log('latest events:', events.map((e) => e.key[2]))
await db.close()
