/**
 * A custom driver: `npx tsx examples/custom-driver.ts`.
 * Entries live in a Map; the library does the rest (validation, expiry, versionstamps, serializable commits).
 */
import { defineDriver, type DriverEntry, KvU64, Valkeyrie } from 'valkeyrie'

const mapDriver = defineDriver(() => {
  const entries = new Map<string, DriverEntry>()
  const id = (key: Uint8Array) => Buffer.from(key).toString('hex')
  return {
    get: (key) => entries.get(id(key)),
    set: (key, value, versionstamp, expiresAt) => {
      entries.set(id(key), { key, value, versionstamp, expiresAt })
    },
    delete: (key) => {
      entries.delete(id(key))
    },
    list: (start, end, _prefix, _now, limit, reverse) => {
      const inRange = [...entries.values()]
        .filter((e) => Buffer.compare(e.key, start) >= 0 && Buffer.compare(e.key, end) < 0)
        .sort((a, b) => Buffer.compare(a.key, b.key))
      if (reverse) inRange.reverse()
      return inRange.slice(0, limit)
    },
    cleanup: (now) => {
      for (const [k, e] of entries) if (e.expiresAt !== null && e.expiresAt <= now) entries.delete(k)
    },
    // A Map has no transactions: the library runs one callback at a time and undoes failed writes.
    withTransaction: (callback) => callback(),
    close: () => entries.clear(),
  }
})

await using db = await Valkeyrie.open(undefined, mapDriver)
await db.set(['users', 'ada'], { name: 'Ada' })
await Promise.all(Array.from({ length: 100 }, () => db.atomic().sum(['visits'], 1n).commit()))
console.log((await db.get(['users', 'ada'])).value)
console.log('visits:', (await db.get<KvU64>(['visits'])).value?.value) // 100n
