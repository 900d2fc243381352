/** `valkeyrie delete <database> <key>`: deletes one entry. */
import { openDatabase } from '../open-database.js'
import { parseKeyArgument } from '../syntax.js'
import type { Command } from './command.js'

export const del: Command = {
  spec: {
    name: 'delete',
    usage: '<database> <key>',
    summary: 'Deletes the entry at a key, whether or not it exists; prints nothing (with --json: {"ok":true}).',
    positionals: { min: 2, max: 2 },
    options: {},
    help: '  <key>                a JSON array, such as \'["users", "ada"]\'',
  },
  async run({ database, args, serializer, out }) {
    const key = parseKeyArgument(args[0] as string)
    const db = await openDatabase(database, 'write', serializer)
    try {
      await db.delete(key)
      if (out.json) await out.jsonLine({ ok: true })
      return 0
    } finally {
      await db.close()
    }
  },
}
