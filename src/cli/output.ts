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

export class Output {
  readonly json: boolean
  readonly #stdout: NodeJS.WriteStream
  readonly #stderr: NodeJS.WriteStream
  #lastProgress = 0
  #progressShown = false

  constructor(json: boolean, stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr) {
    this.json = json
    this.#stdout = stdout
    this.#stderr = stderr
  }

  /** Writes one line to stdout; resolves once stdout can take more (so a long export never fills memory). */
  line(text: string): Promise<void> | undefined {
    if (this.#stdout.write(`${text}\n`)) return undefined
    return new Promise((resolve) => this.#stdout.once('drain', resolve))
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

  /** A note on stderr (a missing entry, a count of skipped lines). */
  note(text: string): void {
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
