/**
 * `valkeyrie import <database>`: entries from stdin (the export format), or from a Deno KV file. Every entry is
 * read and checked first (its line, its key, whether the database's serializer can store its value, the limits),
 * and only then written: bad input leaves the database as it was. The writing itself is many commits, not one.
 */
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { finished } from 'node:stream/promises'
import type { LoadEntry, LoadResult } from '../../bulk-load.js'
import { Valkeyrie } from '../../valkeyrie.js'
import { UsageError } from '../args.js'
import { openDenoKv, readDenoKv } from '../deno-kv.js'
import { parseLine, type LineEntry } from '../line-format.js'
import { isUrl, openDatabase } from '../open-database.js'
import { loadSerializer } from '../serializers.js'
import { formatKey } from '../../errors.js'
import type { Command } from './command.js'

/** Where the entry being read came from, for messages: `line 12`, or the Deno KV key. */
interface Position {
  where: string
}

/** The entries of a source, as many times as asked (stdin is kept in a temporary file after the first pass). */
interface Source {
  entries(position: Position): AsyncIterable<LineEntry>
  close(): void
}

/** Resolves when the stream drains, or fails (its error is kept by the listener set at its creation). */
function drained(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done).off('error', done)
      resolve()
    }
    stream.on('drain', done).on('error', done)
  })
}

function stdinSource(): Source {
  const folder = mkdtempSync(join(tmpdir(), 'valkeyrie-import-'))
  const copy = join(folder, 'input.jsonl')
  let first = true
  return {
    async *entries(position) {
      const fromStdin = first
      first = false
      let spool: WriteStream | undefined
      // The spool opens asynchronously: a failure found on an early line must not leave it opening (or failing to,
      // once the folder is gone) with no one listening, which would end the process with an unhandled error.
      let spoolError: Error | undefined
      if (fromStdin) spool = createWriteStream(copy).on('error', (error) => (spoolError ??= error))
      const lines = createInterface({ input: fromStdin ? process.stdin : createReadStream(copy), crlfDelay: Infinity })
      let n = 0
      try {
        for await (const text of lines) {
          n++
          if (spool && !spool.write(`${text}\n`)) {
            await drained(spool)
          }
          if (text.trim() === '') continue
          position.where = `line ${n}`
          try {
            yield parseLine(text)
          } catch (error) {
            throw new TypeError(`line ${n}: ${(error as Error).message}`)
          }
        }
      } finally {
        if (spool) {
          spool.end()
          await finished(spool).catch(() => {})
        }
      }
      if (spoolError) throw spoolError
    },
    close: () => rmSync(folder, { recursive: true, force: true }),
  }
}

function denoSource(path: string): Source {
  const client = openDenoKv(path)
  return {
    async *entries(position) {
      for (const entry of readDenoKv(client)) {
        position.where = `the entry at ${formatKey(entry.key)}`
        yield entry
      }
    },
    close: () => client.close(),
  }
}

/** The entries of a source as entries to load: the expiry kept exactly. */
async function* toLoad(entries: AsyncIterable<LineEntry>): AsyncGenerator<LoadEntry> {
  for await (const { key, value, expiresAt } of entries) yield expiresAt === null ? { key, value } : { key, value, expiresAt }
}

/** A load error of the n-th entry, said of the line (or Deno KV key) it came from. */
function located(error: unknown, position: Position): unknown {
  if (!(error instanceof TypeError || error instanceof RangeError)) return error
  const cause = error.cause instanceof Error && /^item \d+: /.test(error.message) ? error.cause : error
  if (/^line \d+: /.test(cause.message)) return cause
  return new TypeError(`${position.where}: ${cause.message}`, { cause })
}

export const importCommand: Command = {
  spec: {
    name: 'import',
    usage: '<database> [--from-deno-kv <file>]',
    summary: 'Writes entries read from stdin (the JSON lines of export) into the database, creating it when absent.',
    positionals: { min: 1, max: 1 },
    options: { 'from-deno-kv': { type: 'string' } },
    help: `  --from-deno-kv <file>  read the entries of a Deno KV SQLite file instead of stdin
  Every entry is checked before the first is written: bad input leaves the database as it was. Existing keys
  are overwritten; entries whose expiresAt has passed are skipped.`,
  },
  async run({ database, values, serializer, out }) {
    const denoFile = values['from-deno-kv'] as string | undefined
    if (denoFile === undefined && process.stdin.isTTY) {
      throw new UsageError('import reads JSON lines from stdin: valkeyrie import <database> < dump.jsonl')
    }
    const source = denoFile === undefined ? stdinSource() : denoSource(denoFile)
    try {
      const position: Position = { where: '' }
      // A database that does not exist yet is not created before the input has been checked.
      const exists = isUrl(database) || existsSync(database)
      let db = exists
        ? await openDatabase(database, 'write', serializer)
        : await Valkeyrie.open({ serializer: await loadSerializer(serializer ?? 'v8'), sweepInterval: 0 })
      try {
        let seen = 0
        try {
          seen = (await db.load(toLoad(source.entries(position)), { validateOnly: true })).loaded
        } catch (error) {
          throw located(error, position)
        }
        out.progress(`checked ${seen} entries`, true)
        if (!exists) {
          await db.close()
          db = await openDatabase(database, 'create', serializer)
        }
        let result: LoadResult
        try {
          result = await db.load(toLoad(source.entries(position)), {
            onProgress: (loaded) => out.progress(`imported ${loaded} of ${seen} entries`),
          })
        } catch (error) {
          throw located(error, position)
        }
        out.endProgress()
        const { loaded, expired } = result
        if (out.json) await out.jsonLine({ imported: loaded, expired })
        else await out.line(`imported ${loaded} ${loaded === 1 ? 'entry' : 'entries'}${expired > 0 ? ` (skipped ${expired} expired)` : ''}`)
        return 0
      } finally {
        await db.close()
      }
    } finally {
      source.close()
    }
  },
}
