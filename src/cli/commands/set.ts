/** `valkeyrie set <database> <key> <value>`: writes one entry. */
import { integerOption } from '../args.js'
import { openDatabase } from '../open-database.js'
import { parseKeyArgument, parseValueArgument } from '../syntax.js'
import type { Command } from './command.js'

export const set: Command = {
  spec: {
    name: 'set',
    usage: '<database> <key> <value> [--expire-in <ms>]',
    summary: 'Writes a value at a key and prints the new versionstamp. Creates the database when it does not exist.',
    positionals: { min: 3, max: 3 },
    options: { 'expire-in': { type: 'string' } },
    help: `  <key>                a JSON array, such as '["users", "ada"]'
  <value>              JSON, such as '"a string"', 42 or '{"name":"Ada"}'; other types as tags (docs/cli.md),
                       such as '{"$$":"KvU64","v":"5"}'
  --expire-in <ms>     the entry expires after this many milliseconds`,
  },
  async run({ database, args, values, serializer, out }) {
    const key = parseKeyArgument(args[0] as string)
    const value = parseValueArgument(args[1] as string)
    const expireIn = integerOption('expire-in', values['expire-in'] as string | undefined, 0)
    const db = await openDatabase(database, 'create', serializer)
    try {
      const result = await db.set(key, value, expireIn === undefined ? undefined : { expireIn })
      if (out.json) await out.jsonLine({ ok: true, versionstamp: result.versionstamp })
      else await out.line(result.versionstamp)
      return 0
    } finally {
      await db.close()
    }
  },
}
