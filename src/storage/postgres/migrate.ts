/**
 * The PostgreSQL tables at open: Valkeyrie's migrations from `drizzle/postgres/`, applied in one transaction under
 * an advisory lock (drizzle's own migrator takes none, and processes opening a new database together would race
 * on every CREATE), or, when an application's migrations own them, the tables checked.
 */
import { fileURLToPath } from 'node:url'
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { MIGRATIONS_TABLE } from '../format.js'
import { type PgClient, type PgPool, type PgResult, withConnection } from './client.js'
import type { PgKvTables } from './schema.js'
import { ident } from './sql.js'

/** The folder drizzle-kit writes (shipped in the package beside `dist/`). */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../drizzle/postgres', import.meta.url))

export const NEWER_VERSION = 'it was written by a newer version of Valkeyrie'

const one = async (client: PgClient, text: string, values?: unknown[]): Promise<PgResult> =>
  (await client.query(values ? { text, values } : text)) as PgResult

/**
 * Applies the pending migrations, in one transaction, to `schema` (created when absent) or, without one, to the
 * schema the connection's search_path creates tables in (normally `public`). The first statement waits for an
 * advisory lock, so concurrent openers apply them one after the other, and each later one finds the journal up to
 * date. Throws the server's error, or an Error with NEWER_VERSION.
 */
/** The qualified name of the migrations journal in `schema` (unqualified without one). */
export const journalName = (schema: string | undefined): string =>
  schema === undefined ? ident(MIGRATIONS_TABLE) : `${ident(schema)}.${ident(MIGRATIONS_TABLE)}`

export async function migrate(pool: PgPool, schema: string | undefined): Promise<void> {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER })
  const journal = journalName(schema)
  await withConnection(pool, async (client, broken) => {
    try {
      await one(client, 'BEGIN')
      await one(client, "SELECT pg_advisory_xact_lock(hashtextextended('valkeyrie:migrate:' || coalesce($1, current_schema()), 0))", [schema ?? null])
      if (schema !== undefined) {
        const exists = await one(client, 'SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])
        if (exists.rowCount === 0) await one(client, `CREATE SCHEMA ${ident(schema)}`)
        // The generated migrations name their tables without a schema.
        await one(client, `SET LOCAL search_path TO ${ident(schema)}`)
      }
      await one(client, `CREATE TABLE IF NOT EXISTS ${journal} (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint)`)
      const last = await one(client, `SELECT created_at FROM ${journal} ORDER BY created_at DESC LIMIT 1`)
      const applied = Number(last.rows[0]?.created_at ?? 0)
      if (applied > (migrations.at(-1)?.folderMillis ?? 0)) throw new Error(NEWER_VERSION)
      for (const migration of migrations) {
        if (migration.folderMillis <= applied) continue
        for (const statement of migration.sql) if (statement.trim()) await one(client, statement)
        await one(client, `INSERT INTO ${journal} (hash, created_at) VALUES ($1, $2)`, [migration.hash, migration.folderMillis])
      }
      await one(client, 'COMMIT')
    } catch (error) {
      broken(error as Error)
      await one(client, 'ROLLBACK').catch(() => {})
      throw error
    }
  })
}

/**
 * Why the application's tables cannot hold Valkeyrie's data, if they cannot: a table missing, or a column missing
 * or of another type than `createPgKvTables()` declares (an older or edited schema).
 */
export async function tablesProblem(pool: PgPool, tables: PgKvTables): Promise<string | undefined> {
  for (const table of [tables.kv, tables.meta, tables.queue] as PgTable[]) {
    const { name, schema, columns } = getTableConfig(table)
    // A table without a schema is where the search_path finds it.
    const found = await pool.query({
      text:
        'SELECT column_name, data_type, table_schema FROM information_schema.columns ' +
        'WHERE table_schema = coalesce($1, (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ' +
        'WHERE c.oid = to_regclass(quote_ident($2)))) AND table_name = $2',
      values: [schema ?? null, name],
    })
    if (found.rows.length === 0) {
      return `its table ${schema ?? ''}${schema ? '.' : ''}${name} does not exist: add createPgKvTables() from 'valkeyrie/drizzle' to your Drizzle schema and run your migrations (or open with migrations: 'apply')`
    }
    const types = new Map(found.rows.map((r) => [r.column_name as string, r.data_type as string]))
    for (const column of columns) {
      const type = types.get(column.name)
      // A serial column is an integer column with a default from a sequence.
      const wanted = column.getSQLType().replace(/^bigserial$/, 'bigint')
      const shown = `${found.rows[0]?.table_schema as string}.${name}`
      if (type === undefined) return `its table ${shown} has no column ${column.name}: run the migrations of this version`
      if (type !== wanted) return `its column ${shown}.${column.name} is ${type}, expected ${wanted}`
    }
  }
  return undefined
}
