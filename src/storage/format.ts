/**
 * What every backend's tables mean, defined once: the format version of the rows, the id of the metadata table's one
 * row, and the name of Valkeyrie's own migrations journal.
 */

/** Meaning of the rows; bump with a migration (in every dialect) when it changes. */
export const FORMAT_VERSION = 1

/** The id of the metadata table's one row. */
export const META_ID = 1

/** Our own migrations journal, so it never mixes with an application's `__drizzle_migrations`. */
export const MIGRATIONS_TABLE = '__valkeyrie_migrations'

/** Why a store's recorded format cannot be read by this version, if it cannot. */
export const formatProblem = (formatVersion: number): string | undefined =>
  formatVersion === FORMAT_VERSION ? undefined : `its storage format ${formatVersion} is not supported (expected ${FORMAT_VERSION})`
