/**
 * Bulk load: `npm run example:bulk-load` (or `npx tsx examples/bulk-load.ts [path]`).
 * Fills a database file (default ./bulk-load.db) from a generator of 20,000 records of about 1.5 KB each, far
 * more bytes than one commit may hold: Valkeyrie.fromAsync splits them into commits by count and by bytes.
 */
import { Valkeyrie } from 'valkeyrie'

const path = process.argv[2] ?? './bulk-load.db'
const COUNT = 20_000

async function* records() {
  for (let id = 1; id <= COUNT; id++) {
    yield { id, title: `record ${id}`, body: 'lorem ipsum '.repeat(125), createdAt: new Date(Date.UTC(2025, 0, 1) + id * 60_000) }
  }
}

let commits = 0
const started = performance.now()
await using db = await Valkeyrie.fromAsync(records(), {
  path,
  prefix: ['records'],
  keyProperty: 'id',
  onProgress: () => commits++,
})
const seconds = (performance.now() - started) / 1000

const info = await db.info()
console.log(`loaded ${info.live} records in ${commits} commits, ${seconds.toFixed(1)} s (${Math.round(COUNT / seconds)} records/s)`)
const last = await db.get<{ title: string; createdAt: Date }>(['records', COUNT])
console.log('last record:', last.value?.title, last.value?.createdAt)

// Start over: clear() deletes every entry (destroy() would delete the file too).
await db.clear()
console.log('after clear:', (await db.info()).entries, 'entries')
