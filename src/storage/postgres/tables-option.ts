/**
 * The `tables` option on a PostgreSQL database the application owns: the kv tables it declared with
 * `createPgKvTables()` (their schema comes with them), or their names in the `schema` option's schema.
 */
import { getTableColumns, is } from 'drizzle-orm'
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core'
import { describeValue } from '../../errors.js'
import { DEFAULT_TABLE_NAMES, type KvTableNames } from '../sqlite/schema.js'
import { createPgKvTables, type PgKvTables } from './schema.js'

type Role = keyof KvTableNames

/** The kv tables from `createPgKvTables()`, or their names; an omitted one keeps its default name. */
export interface PgKvTablesOption {
  /** The entries table (default `kv`). */
  kv?: PgKvTables['kv'] | string
  /** The metadata table (default `kv_meta`). */
  meta?: PgKvTables['meta'] | string
  /** The queue table (default: the entries table's name with `_queue`). */
  queue?: PgKvTables['queue'] | string
}

const ROLES: readonly Role[] = ['kv', 'meta', 'queue']

/** Whether the tables have the names Valkeyrie's own migrations create. */
export const hasDefaultNames = (tables: PgKvTables): boolean =>
  getTableConfig(tables.kv).name === DEFAULT_TABLE_NAMES.kv &&
  getTableConfig(tables.meta).name === DEFAULT_TABLE_NAMES.meta &&
  getTableConfig(tables.queue).name === DEFAULT_TABLE_NAMES.queue

/** The tables the option gives (defaults in `schema`). Throws `TypeError` for anything but names or tables of their role. */
export function pgTablesOf(option: unknown, schema: string | undefined): PgKvTables {
  const tables = createPgKvTables(DEFAULT_TABLE_NAMES, { schema })
  if (option === undefined) return tables
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new TypeError(`tables must be an object: received ${describeValue(option)}`)
  }
  const given = option as Record<string, unknown>
  for (const [role, value] of Object.entries(given)) {
    if (!ROLES.includes(role as Role)) throw new TypeError(`tables takes kv, meta and queue: received ${JSON.stringify(role)}`)
    if (value === undefined) continue
    Object.assign(tables, { [role]: tableOf(role as Role, value, schema) })
  }
  // Without its own, the queue table is named after the entries table, in its schema.
  if (given.queue === undefined && given.kv !== undefined) {
    const { name, schema: kvSchema } = getTableConfig(tables.kv)
    tables.queue = createPgKvTables({ kv: name, meta: name }, { schema: kvSchema }).queue
  }
  return tables
}

/** Whether `value` is a PostgreSQL table object (so the `tables` option is meant for a Postgres database). */
export const isPgTable = (value: unknown): boolean => is(value, PgTable)

function tableOf(role: Role, value: unknown, schema: string | undefined): PgTable {
  const wanted = `tables.${role} must be the ${role} table from createPgKvTables() or its name`
  if (typeof value === 'string') {
    if (value === '') throw new TypeError(`${wanted}: received ""`)
    return createPgKvTables({ kv: value, meta: value, queue: value }, { schema })[role]
  }
  if (!is(value, PgTable)) throw new TypeError(`${wanted}: received ${describeValue(value)}`)
  const config = getTableConfig(value)
  // Ours when it has exactly the columns and indexes createPgKvTables() gives that role under that name.
  const built = createPgKvTables({ kv: config.name, meta: config.name, queue: config.name }, { schema: config.schema })
  if (shapeOf(value) === shapeOf(built[role])) return built[role]
  for (const other of ROLES) {
    if (other !== role && shapeOf(value) === shapeOf(built[other])) throw new TypeError(`${wanted}: received the ${other} table ${config.name}`)
  }
  throw new TypeError(`${wanted}: received table ${config.name}, whose columns or indexes differ`)
}

/** Every column (property, SQL name, type, constraints) and index of a table, as one comparable string. */
function shapeOf(table: PgTable): string {
  const columns = Object.entries(getTableColumns(table)).map(
    ([property, c]) => `${property}=${c.name}:${c.getSQLType()}:${c.notNull}:${c.primary}:${c.hasDefault}`,
  )
  const indexes = getTableConfig(table).indexes.map(
    ({ config }) => `${config.name}(${config.columns.map((c) => ('name' in c ? c.name : '?')).join(',')}):${config.unique}`,
  )
  return [...columns, ...indexes].join(';')
}
