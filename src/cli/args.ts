/** The command line's grammar: each command's arguments and options, parsed by `node:util` parseArgs. */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { SERIALIZER_NAMES } from './serializers.js'

/** A mistake on the command line: shown with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

type Options = NonNullable<ParseArgsConfig['options']>

/** One command: its name, what it takes, and its help. */
export interface CommandSpec {
  name: string
  /** The arguments after the command, as shown in help: `<database> <key>`. */
  usage: string
  summary: string
  /** How many positional arguments it takes (the database included). */
  positionals: { min: number; max: number }
  options: Options
  /** Help text beyond the summary: one line per option, then notes. */
  help: string
}

/** Options every command takes. */
const COMMON: Options = {
  serializer: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
}

export const COMMON_HELP = `  --serializer <name>  the database's serializer (${SERIALIZER_NAMES.join(', ')}); an existing database's own
                       serializer is found without it; a new database gets v8 unless this says otherwise
  --json               print JSON lines (docs/cli.md) instead of readable text
  -h, --help           show this help`

/** The parsed command line of one command. */
export interface ParsedCommand {
  positionals: string[]
  values: Record<string, string | boolean | undefined>
}

/** Parses the arguments after the command name. Throws `UsageError` for anything the command does not take. */
export function parseCommand(spec: CommandSpec, args: readonly string[]): ParsedCommand {
  let parsed
  try {
    parsed = parseArgs({ args: [...args], options: { ...COMMON, ...spec.options }, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError(`${spec.name}: ${(error as Error).message.split('\n')[0]}`)
  }
  const values = parsed.values as Record<string, string | boolean | undefined>
  if (values.help) return { positionals: parsed.positionals, values }
  const count = parsed.positionals.length
  if (count < spec.positionals.min) {
    throw new UsageError(`${spec.name}: missing arguments: valkeyrie ${spec.name} ${spec.usage}`)
  }
  if (count > spec.positionals.max) {
    throw new UsageError(`${spec.name}: too many arguments (${count}): valkeyrie ${spec.name} ${spec.usage}`)
  }
  return { positionals: parsed.positionals, values }
}

/** The help of one command. */
export function commandHelp(spec: CommandSpec): string {
  return `valkeyrie ${spec.name} ${spec.usage}\n\n${spec.summary}\n\n${spec.help ? `${spec.help}\n` : ''}${COMMON_HELP}\n`
}

/** A non-negative integer option. */
export function integerOption(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined
  if (!/^[0-9]+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--${name} must be an integer of at least ${min}: received ${JSON.stringify(text)}`)
  }
  return Number(text)
}
