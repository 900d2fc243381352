/** `valkeyrie export <database> [prefix]`: every entry as a line of the export format, on stdout. */
import { openDatabase } from '../open-database.js'
import { formatLine } from '../line-format.js'
import { parseKeyArgument } from '../syntax.js'
import type { Command } from './command.js'

export const exportCommand: Command = {
  spec: {
    name: 'export',
    usage: '<database> [prefix]',
    summary: 'Writes the entries (under a prefix, or all of them) to stdout as JSON lines, in key order (docs/cli.md).',
    positionals: { min: 1, max: 2 },
    options: {},
    help: '  [prefix]             a JSON array; its strict descendants are exported (default [], everything)',
  },
  async run({ database, args, serializer, out }) {
    const prefix = args[0] === undefined ? [] : parseKeyArgument(args[0], 'prefix', true)
    const db = await openDatabase(database, 'read', serializer)
    let count = 0
    try {
      for await (const entry of db.listWithExpiry({ prefix }, { batchSize: 1000 })) {
        let line: string
        try {
          line = formatLine(entry)
        } catch (error) {
          throw new TypeError(`cannot export the entry at ${out.key(entry.key)}: ${(error as Error).message}`)
        }
        await out.line(line)
        count++
        out.progress(`exported ${count} ${count === 1 ? 'entry' : 'entries'}`)
      }
      out.endProgress()
      return 0
    } finally {
      await db.close()
    }
  },
}
