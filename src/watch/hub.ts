/**
 * The watch streams of one database. Commits of this instance are announced with their keys (`committed`), and
 * only the streams following one of those keys re-read; a change announced by the store (`watchChanges`: another
 * process or client) re-reads every stream. The store's notifier runs only while a stream is open, and while one
 * is open a handle keeps the process alive: it exits by itself once every stream is cancelled or the database
 * closed.
 */
import type { ReadableStream } from 'node:stream/web'
import type { Storage } from '../storage/store.js'
import type { KvEntryMaybe, KvKey } from '../types.js'
import { keyId, type WatchSource, WatchedKeys } from './watched-keys.js'

export interface WatchHubOptions extends WatchSource {
  /** The store's notifier of commits made elsewhere, if it has one. */
  watchChanges: Storage['watchChanges']
  /** Called with true when the first stream opens and false when the last one ends. */
  onActive(active: boolean): void
}

/** A timer that does nothing: a ref'd handle holding the process alive while streams are open. */
const KEEP_ALIVE_MS = 2 ** 30

export class WatchHub {
  readonly #options: WatchHubOptions
  readonly #watches = new Set<WatchedKeys>()
  #stopChanges: (() => void) | undefined
  #keepAlive: NodeJS.Timeout | undefined

  constructor(options: WatchHubOptions) {
    this.#options = options
  }

  /** Opens a stream of the keys' states (`encoded` are the keys encoded and checked); the first is the current one. */
  open(keys: readonly KvKey[], encoded: readonly Buffer[], raw: boolean): ReadableStream<KvEntryMaybe[]> {
    const watch = new WatchedKeys(keys, encoded, raw, this.#options, (w) => this.#remove(w))
    if (this.#watches.size === 0) this.#start()
    this.#watches.add(watch)
    watch.refresh()
    return watch.stream
  }

  /** This instance committed writes to `keys`: the streams following any of them re-read. */
  committed(keys: readonly Buffer[]): void {
    if (this.#watches.size === 0) return
    const changed = new Set<string>()
    for (const key of keys) changed.add(keyId(key))
    for (const watch of this.#watches) {
      if (watch.ids.some((id) => changed.has(id))) watch.refresh()
    }
  }

  /** Something may have changed anywhere: every stream re-reads. */
  changed(): void {
    for (const watch of this.#watches) watch.refresh()
  }

  /** Ends every stream (the database is closing). */
  endAll(): void {
    for (const watch of [...this.#watches]) watch.end()
  }

  #start(): void {
    this.#keepAlive = setInterval(() => {}, KEEP_ALIVE_MS)
    this.#options.onActive(true)
    this.#stopChanges = this.#options.watchChanges?.(() => this.changed())
  }

  #remove(watch: WatchedKeys): void {
    if (!this.#watches.delete(watch) || this.#watches.size > 0) return
    const stop = this.#stopChanges
    this.#stopChanges = undefined
    clearInterval(this.#keepAlive)
    this.#keepAlive = undefined
    this.#options.onActive(false)
    stop?.()
  }
}
