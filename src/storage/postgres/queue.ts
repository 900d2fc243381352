/**
 * The queue of the PostgreSQL storage: messages are rows of the queue table. Enqueues are inserted by the commit's
 * own transaction (sql.ts); a claim is one statement whose sub-select locks the due rows `FOR UPDATE SKIP LOCKED`,
 * so concurrent claimers (any process, any host) never lease one message twice and never wait for each other.
 * Claims, keepalives, acks and retries take no write lock of the kv tables: consuming is not bounded by the
 * commit rate. Each acts only on rows still leased under the caller's token.
 */
import { keysFromText, scheduleFromText, scheduleToText } from '../../queue/message.js'
import type { ClaimedMessage, QueueStore } from '../store.js'
import type { PgPool } from './client.js'
import type { PgKvTables } from './schema.js'
import { tableName } from './sql.js'

export function createPgQueue(pool: PgPool, tables: PgKvTables): QueueStore {
  const q = tableName(tables.queue)
  const claim =
    `WITH due AS (SELECT id, ready_at, lease_token IS NOT NULL AS expired FROM ${q} WHERE ready_at <= $1 ` +
    'ORDER BY ready_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) ' +
    `UPDATE ${q} AS m SET lease_token = $3, ready_at = $4, attempts = m.attempts + 1 FROM due WHERE m.id = due.id ` +
    'RETURNING m.id, m.value, m.encoding, due.ready_at AS was_ready, due.expired, m.attempts, m.keys_if_undelivered, m.backoff_schedule'
  const extend = `UPDATE ${q} SET ready_at = $1 WHERE id = ANY($2::bigint[]) AND lease_token = $3`
  const ack = `DELETE FROM ${q} WHERE id = ANY($1::bigint[]) AND lease_token = $2`
  const retry = `UPDATE ${q} SET ready_at = $1, lease_token = NULL, backoff_schedule = $2 WHERE id = $3 AND lease_token = $4`
  const nextDue = `SELECT min(ready_at) AS due FROM ${q}`
  return {
    async claim(now, limit, token, until) {
      const { rows } = await pool.query({ text: claim, values: [now, limit, token, until] })
      const claimed = rows.map(
        (r): ClaimedMessage & { was: number } => ({
          id: String(r.id),
          value: r.value as Buffer,
          encoding: Number(r.encoding),
          readyAt: Number(r.was_ready),
          was: Number(r.was_ready),
          keysIfUndelivered: keysFromText(r.keys_if_undelivered as string),
          backoffSchedule: scheduleFromText(r.backoff_schedule as string),
          attempts: Number(r.attempts),
          expired: r.expired === true,
        }),
      )
      // RETURNING keeps no order: put it back to ready time, then enqueue order.
      claimed.sort((a, b) => a.was - b.was || Number(a.id) - Number(b.id))
      return claimed
    },
    async extend(ids, token, until) {
      if (ids.length > 0) await pool.query({ text: extend, values: [until, ids, token] })
    },
    async ack(ids, token) {
      if (ids.length > 0) await pool.query({ text: ack, values: [ids, token] })
    },
    async retry(id, token, readyAt, schedule) {
      await pool.query({ text: retry, values: [readyAt, scheduleToText(schedule), id, token] })
    },
    async nextDue() {
      const { rows } = await pool.query({ text: nextDue })
      const due = rows[0]?.due
      return due === null || due === undefined ? null : Number(due)
    },
  }
}
