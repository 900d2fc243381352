/** `valkeyrie list <database> [prefix]`: entries by prefix or range, as `list` reads them. */
import { integerOption } from '../args.js'
import { openDatabase } from '../open-database.js'
import { parseKeyArgument } from '../syntax.js'
import { keyToJson, valueToJson } from '../tagged-json.js'
import type { KvListSelector } from '../../types.js'
import type { Command } from './command.js'

export const list: Command = {
  spec: {
    name: 'list',
    usage: '<database> [prefix] [--start <key>] [--end <key>] [--limit <n>] [--reverse]',
    summary: 'Prints the entries under a prefix (all of them without one), one per line: key, then value.',
    positionals: { min: 1, max: 2 },
    options: {
      start: { type: 'string' },
      end: { type: 'string' },
      limit: { type: 'string' },
      reverse: { type: 'boolean' },
    },
    help: `  [prefix]             a JSON array; its strict descendants are listed (default [], everything)
  --start <key>        list from this key on (a full key, or a key relative to the prefix)
  --end <key>          list up to this key, not included
  --limit <n>          at most n entries
  --reverse            in descending key order`,
  },
  async run({ database, args, values, serializer, out }) {
    const prefix = args[0] === undefined ? [] : parseKeyArgument(args[0], 'prefix', true)
    const start = values.start === undefined ? undefined : parseKeyArgument(values.start as string, '--start')
    const end = values.end === undefined ? undefined : parseKeyArgument(values.end as string, '--end')
    const limit = integerOption('limit', values.limit as string | undefined, 1)
    const selector = { prefix, ...(start && { start }), ...(end && { end }) } as KvListSelector
    const db = await openDatabase(database, 'read', serializer)
    try {
      const entries = db.list(selector, { reverse: values.reverse === true, ...(limit !== undefined && { limit }) })
      for await (const entry of entries) {
        if (out.json) {
          await out.jsonLine({ key: keyToJson(entry.key), value: valueToJson(entry.value), versionstamp: entry.versionstamp })
        } else {
          await out.line(`${out.key(entry.key)}  ${out.inspect(entry.value)}`)
        }
      }
      return 0
    } finally {
      await db.close()
    }
  },
}
