/**
 * What the command line prints: results on stdout (readable, or JSON lines with `--json`), progress on stderr
 * only when stderr is a terminal, and errors as one line on stderr.
 */
import { clearLine, cursorTo } from 'node:readline'
import { inspect } from 'node:util'
import { formatKey } from '../errors.js'
import type { KvKey } from '../types.js'
import type { Json } from './tagged-json.js'

/** Progress updates at most this often, in ms. */
const PROGRESS_INTERVAL_MS = 100
/** Lines are written to stdout in chunks of about this many bytes: one write per line would be a system call each. */
const CHUNK_BYTES = 64 * 1024

export class Output {
  readonly json: boolean
  readonly #stdout: NodeJS.WriteStream
  readonly #stderr: NodeJS.WriteStream
  #lastProgress = 0
  #progressShown = false
  #pending: string[] = []
  #pendingBytes = 0

  constructor(json: boolean, stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr) {
    this.json = json
    this.#stdout = stdout
    this.#stderr = stderr
  }

  /**
   * Queues one line for stdout, written with the next chunk; when a chunk is written and stdout is full, resolves
   * once it can take more (so a long export never fills memory). `flush()` writes the rest.
   */
  line(text: string): Promise<void> | undefined {
    this.#pending.push(text, '\n')
    this.#pendingBytes += text.length + 1
    return this.#pendingBytes >= CHUNK_BYTES ? this.flush() : undefined
  }

  /** Writes the queued lines; resolves once stdout can take more. */
  flush(): Promise<void> | undefined {
    if (this.#pending.length === 0) return undefined
    const chunk = this.#pending.join('')
    this.#pending = []
    this.#pendingBytes = 0
    if (this.#stdout.write(chunk)) return undefined
    return new Promise((resolve) => this.#stdout.once('drain', () => resolve()))
  }

  /** One JSON line on stdout. */
  jsonLine(value: Json | Record<string, Json>): Promise<void> | undefined {
    return this.line(JSON.stringify(value))
  }

  /** A value for people: util.inspect, in colour on a terminal. */
  inspect(value: unknown): string {
    return inspect(value, { depth: null, colors: this.#stdout.isTTY === true, breakLength: Infinity, maxArrayLength: null, maxStringLength: null })
  }

  /** A key for people: `["users", 1n, Uint8Array[1,2]]`. */
  key(key: KvKey): string {
    return formatKey(key)
  }

  /** A note on stderr (a missing entry, a count of skipped lines), after the lines queued for stdout. */
  note(text: string): void {
    void this.flush()
    this.endProgress()
    this.#stderr.write(`${text}\n`)
  }

  /** Shows `text` as the progress line on a terminal, at most every PROGRESS_INTERVAL_MS; nothing otherwise. */
  progress(text: string, force = false): void {
    if (this.#stderr.isTTY !== true) return
    const now = Date.now()
    if (!force && now - this.#lastProgress < PROGRESS_INTERVAL_MS) return
    this.#lastProgress = now
    cursorTo(this.#stderr, 0)
    clearLine(this.#stderr, 0)
    this.#stderr.write(text)
    this.#progressShown = true
  }

  /** Clears the progress line, if one is shown. */
  endProgress(): void {
    if (!this.#progressShown) return
    cursorTo(this.#stderr, 0)
    clearLine(this.#stderr, 0)
    this.#progressShown = false
  }
}

/** A byte count for people: `24.0 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`
}
