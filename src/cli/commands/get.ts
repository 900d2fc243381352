/** `valkeyrie get <database> <key>`: one entry's value. */
import { parseKeyArgument } from '../syntax.js'
import { openDatabase } from '../open-database.js'
import { keyToJson, valueToJson } from '../tagged-json.js'
import type { Command } from './command.js'

export const get: Command = {
  spec: {
    name: 'get',
    usage: '<database> <key>',
    summary: 'Prints the value at a key (with --json: the entry, versionstamp included). A missing key exits with code 1.',
    positionals: { min: 2, max: 2 },
    options: {},
    help: '  <key>                a JSON array, such as \'["users", "ada"]\' (see docs/cli.md for bigints and bytes)',
  },
  async run({ database, args, serializer, out }) {
    const key = parseKeyArgument(args[0] as string)
    const db = await openDatabase(database, 'read', serializer)
    try {
      const entry = await db.get(key)
      if (out.json) {
        await out.jsonLine({
          key: keyToJson(key),
          value: entry.versionstamp === null ? null : valueToJson(entry.value),
          versionstamp: entry.versionstamp,
        })
      } else if (entry.versionstamp !== null) {
        await out.line(out.inspect(entry.value))
      }
      if (entry.versionstamp === null) {
        out.note(`no entry at ${out.key(key)}`)
        return 1
      }
      return 0
    } finally {
      await db.close()
    }
  },
}
