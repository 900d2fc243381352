/**
 * vitest global setup: a PostgreSQL server for the run, given to the tests as `inject('postgres')`. The URL in
 * VALKEYRIE_TEST_POSTGRES_URL if set, else a throwaway server from the installed binaries; else the Postgres
 * tests skip, with one line saying why and how to enable them (a failure when VALKEYRIE_REQUIRE_POSTGRES=1).
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import {
  findServerBin,
  postgresRequired,
  skipLine,
  startThrowawayServer,
  type ThrowawayServer,
  BIN_VARIABLE,
  URL_VARIABLE,
} from './postgres.js'

/** Drops the schemas this run made on a server it does not own (each test drops its own; the driver contract's stay). */
async function dropRunSchemas(url: string, runId: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ name: string }>(
      'SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1)',
      [`vt_${runId}_`],
    )
    for (const { name } of rows) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
  } finally {
    await client.end()
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomBytes(4).toString('hex')
  const skip = (why: string) => {
    if (postgresRequired()) throw new Error(skipLine(why))
    console.warn(skipLine(why))
    project.provide('postgres', { runId, skipped: why })
    return async () => {}
  }
  const given = process.env[URL_VARIABLE]
  if (given) {
    project.provide('postgres', { url: given, runId })
    return () => dropRunSchemas(given, runId)
  }
  const bin = findServerBin()
  if (!bin) {
    const where = process.env[BIN_VARIABLE] ? `in ${process.env[BIN_VARIABLE]} (${BIN_VARIABLE})` : 'on PATH or in /usr/lib/postgresql/<version>/bin'
    return skip(`no ${URL_VARIABLE}, and no PostgreSQL server binaries (initdb, pg_ctl) ${where}`)
  }
  let server: ThrowawayServer
  try {
    server = await startThrowawayServer(bin)
  } catch (error) {
    return skip(`a throwaway server from ${bin} did not start: ${(error as Error).message.split('\n')[0]}`)
  }
  project.provide('postgres', { url: server.url, runId })
  return () => server.remove()
}
