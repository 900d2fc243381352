/** What every command is: its grammar and help (args.ts), and what it does. */
import type { CommandSpec } from '../args.js'
import type { Output } from '../output.js'

/** What a command runs with. */
export interface CommandContext {
  /** The database argument: a file path, or a URL Valkeyrie.open takes. */
  database: string
  /** The positional arguments after the database. */
  args: string[]
  values: Record<string, string | boolean | undefined>
  /** The `--serializer` given, if any. */
  serializer: string | undefined
  out: Output
}

export interface Command {
  spec: CommandSpec
  /** Runs the command; resolves to the exit code. */
  run(context: CommandContext): Promise<number>
}
