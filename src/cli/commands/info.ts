/** `valkeyrie info <database>`: what the database holds, read without writing. */
import { formatBytes } from '../output.js'
import { openDatabase } from '../open-database.js'
import type { Command } from './command.js'

export const info: Command = {
  spec: {
    name: 'info',
    usage: '<database>',
    summary: 'Shows how many entries the database holds (live and expired), its size, serializer, storage format and last versionstamp.',
    positionals: { min: 1, max: 1 },
    options: {},
    help: '',
  },
  async run({ database, serializer, out }) {
    const db = await openDatabase(database, 'read', serializer)
    try {
      const i = await db.info()
      if (out.json) {
        await out.jsonLine({ database, ...i })
        return 0
      }
      const rows: [string, string][] = [
        ['database', database],
        ['entries', `${i.entries} (${i.live} live, ${i.expired} expired)`],
        ['size', i.bytes === null ? 'unknown' : formatBytes(i.bytes)],
        ['serializer', i.serializer],
        ['format', i.formatVersion === null ? 'none' : String(i.formatVersion)],
        ['versionstamp', i.versionstamp ?? 'none (no commit yet)'],
      ]
      for (const [name, value] of rows) await out.line(`${name.padEnd(13)}${value}`)
      return 0
    } finally {
      await db.close()
    }
  },
}
