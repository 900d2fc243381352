#!/usr/bin/env node
/**
 * The `valkeyrie` command: `valkeyrie <command> <database> ...` (docs/cli.md). Exit codes: 0 done; 1 a failure
 * (the database cannot be opened, a missing key for `get`, a storage error); 2 a mistake in the command line or
 * its input (unknown command or option, malformed key, value or line, a value the serializer refuses).
 */
import '../polyfills.js'
import { commandHelp, parseCommand, UsageError } from './args.js'
import { cleanup } from './commands/cleanup.js'
import type { Command } from './commands/command.js'
import { del } from './commands/delete.js'
import { exportCommand } from './commands/export.js'
import { get } from './commands/get.js'
import { importCommand } from './commands/import.js'
import { info } from './commands/info.js'
import { list } from './commands/list.js'
import { set } from './commands/set.js'
import { Output } from './output.js'
import { isKnownSerializer, SERIALIZER_NAMES } from './serializers.js'

const COMMANDS: readonly Command[] = [info, get, set, del, list, cleanup, exportCommand, importCommand]

const HELP = `valkeyrie <command> <database> [arguments] [options]

<database> is a SQLite file path (or a URL that Valkeyrie.open accepts).

Commands:
${COMMANDS.map((c) => `  ${c.spec.name.padEnd(9)}${c.spec.summary.split('. ')[0]?.replace(/\.$/, '')}`).join('\n')}

Keys are JSON arrays ('["users", "ada"]') and values JSON; bigints, bytes, KvU64 and other types are written
as tags such as {"$$":"bigint","v":"5"} (docs/cli.md). Run valkeyrie <command> --help for a command's options.
`

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
async function main(argv: readonly string[], out?: Output): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP)
    return name === undefined ? 2 : 0
  }
  const command = COMMANDS.find((c) => c.spec.name === name)
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}: use one of ${COMMANDS.map((c) => c.spec.name).join(', ')}`)
  const { positionals, values } = parseCommand(command.spec, rest)
  if (values.help) {
    process.stdout.write(commandHelp(command.spec))
    return 0
  }
  const serializer = values.serializer as string | undefined
  if (serializer !== undefined && !isKnownSerializer(serializer)) {
    throw new UsageError(`unknown serializer ${JSON.stringify(serializer)}: use one of ${SERIALIZER_NAMES.join(', ')}`)
  }
  const [database, ...args] = positionals as [string, ...string[]]
  const output = out ?? new Output(values.json === true)
  try {
    return await command.run({ database, args, values, serializer, out: output })
  } finally {
    await output.flush()
  }
}

/** The exit code of an error: 2 for a mistake in the command line or its input, 1 for anything else. */
const exitCodeOf = (error: unknown): number =>
  error instanceof UsageError || error instanceof TypeError || error instanceof RangeError ? 2 : 1

/** The one line an error is shown as. */
function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const hint = error instanceof UsageError ? ' (see valkeyrie --help)' : ''
  return `valkeyrie: ${message.split('\n')[0]}${hint}`
}

// `export ... | head` closes stdout early: stop quietly rather than with an EPIPE error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`${describeError(error)}\n`)
    process.exitCode = exitCodeOf(error)
  },
)
