/**
 * Commits of other clients of a PostgreSQL database, heard on one `LISTEN` connection: every commit that writes
 * sends a notification on the database's channel (sql.ts `notify`), which the server delivers only once it has
 * committed. The connection is opened while someone listens, and opened again (with a growing wait) when it is
 * lost; after each (re)connection the listener is told once, as notifications may have been missed meanwhile.
 */
import { loadOptionalPeer } from '../../optional-peer.js'
import { WATCH_RETRY_MAX_MS, WATCH_RETRY_MIN_MS } from '../../limits.js'
import type { PgPool } from './client.js'

/** A connection that can LISTEN: node-postgres's `Client`, by the members used here. */
export interface ListenConnection {
  query(text: string): Promise<unknown>
  on(event: 'notification', listener: (message: { channel: string }) => void): unknown
  on(event: 'error' | 'end', listener: () => void): unknown
  /** Closes the connection (a pooled one is closed, not returned: it holds a LISTEN). */
  close(): void
}

/** A connection of its own to the URL, outside the pool (so a small pool is not shared with the listener). */
export function connectToUrl(url: string): () => Promise<ListenConnection> {
  return async () => {
    const pg = await loadOptionalPeer('pg', 'a PostgreSQL database', () => import('pg'))
    const Client = (pg.default ?? pg).Client
    const client = new Client({ connectionString: url, application_name: 'valkeyrie-watch' })
    client.on('error', () => {})
    await client.connect()
    return Object.assign(client, { close: () => void client.end().catch(() => {}) }) as unknown as ListenConnection
  }
}

/** A connection taken from an application's pool for as long as someone listens. */
export function connectFromPool(pool: PgPool): () => Promise<ListenConnection> {
  return async () => {
    const client = await pool.connect()
    client.on('error', () => {})
    return Object.assign(client, { close: () => client.release(true) }) as unknown as ListenConnection
  }
}

/** Listens on `channel` until the returned function is called, calling `onChange` per notification. */
export function listenForChanges(connect: () => Promise<ListenConnection>, listen: string, channel: string, onChange: () => void): () => void {
  let stopped = false
  let connection: ListenConnection | undefined
  let retry: NodeJS.Timeout | undefined
  let delay = WATCH_RETRY_MIN_MS

  const lost = (from: ListenConnection): void => {
    if (connection !== from) return
    connection = undefined
    from.close()
    if (!stopped) again()
  }
  const again = (): void => {
    clearTimeout(retry)
    retry = setTimeout(() => void open(), delay)
    delay = Math.min(delay * 2, WATCH_RETRY_MAX_MS)
  }
  const open = async (): Promise<void> => {
    let opened: ListenConnection | undefined
    try {
      opened = await connect()
      if (stopped) return opened.close()
      opened.on('notification', (message) => {
        if (message.channel === channel && connection === opened) onChange()
      })
      opened.on('error', () => lost(opened as ListenConnection))
      opened.on('end', () => lost(opened as ListenConnection))
      connection = opened
      await opened.query(listen)
    } catch {
      if (opened !== undefined && connection === opened) return lost(opened)
      opened?.close()
      if (!stopped) again()
      return
    }
    if (stopped || connection !== opened) return
    delay = WATCH_RETRY_MIN_MS
    // Commits made before LISTEN took effect (or while the connection was down) were not heard.
    onChange()
  }

  void open()
  return () => {
    stopped = true
    clearTimeout(retry)
    const open = connection
    connection = undefined
    open?.close()
  }
}
