/** `valkeyrie cleanup <database>`: deletes the expired entries now. */
import { openDatabase } from '../open-database.js'
import type { Command } from './command.js'

export const cleanup: Command = {
  spec: {
    name: 'cleanup',
    usage: '<database>',
    summary: 'Deletes every expired entry now and prints how many there were.',
    positionals: { min: 1, max: 1 },
    options: {},
    help: '',
  },
  async run({ database, serializer, out }) {
    const db = await openDatabase(database, 'write', serializer)
    try {
      const before = await db.info()
      out.progress(`deleting ${before.expired} expired entries…`, true)
      await db.cleanup()
      const after = await db.info()
      const removed = before.entries - after.entries
      out.endProgress()
      if (out.json) await out.jsonLine({ removed })
      else await out.line(`deleted ${removed} expired ${removed === 1 ? 'entry' : 'entries'}`)
      return 0
    } finally {
      await db.close()
    }
  },
}
