/**
 * Quickstart: `npm run quickstart` (or `npx tsx examples/quickstart.ts [path]`).
 * Opens a database file (default ./quickstart.db), writes, reads, lists, and commits atomically.
 */
import { KvU64, Valkeyrie } from 'valkeyrie'

const path = process.argv[2] ?? './quickstart.db'
await using db = await Valkeyrie.open(path)

// Set values under hierarchical keys.
await db.set(['users', 'ada'], { name: 'Ada Lovelace', born: new Date('1815-12-10') })
await db.set(['users', 'alan'], { name: 'Alan Turing', born: new Date('1912-06-23') })
await db.set(['session', 'token123'], 'abc123', { expireIn: 60 * 1000 })

// Read one key.
const ada = await db.get(['users', 'ada'])
console.log('get:', ada.key, ada.value, ada.versionstamp)

// List a prefix.
for await (const entry of db.list({ prefix: ['users'] })) console.log('list:', entry.key, entry.value)

// Count visits atomically, and do a check-and-set.
await db.atomic().sum(['visits'], new KvU64(1n)).commit()
const visits = await db.get<KvU64>(['visits'])
console.log('visits so far:', visits.value?.value)

const entry = await db.get<{ name: string }>(['users', 'alan'])
const result = await db.atomic()
  .check({ key: ['users', 'alan'], versionstamp: entry.versionstamp })
  .set(['users', 'alan'], { ...entry.value, name: 'Alan M. Turing' })
  .commit()
console.log('check-and-set:', result)
