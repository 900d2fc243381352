/** Every file in examples/ runs to completion in its own process; the PostgreSQL ones against the test server. */
import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { postgres, postgresUrl } from '../support/backends.js'
import { tempDir } from '../support/open-test-db.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.ts'))
/** The examples that need a PostgreSQL server, given to them as DATABASE_URL. */
const onPostgres = (file: string): boolean => file.includes('postgres')

describe('examples', () => {
  for (const file of examples) {
    it.skipIf(onPostgres(file) && postgres.unavailable !== undefined)(`runs examples/${file}`, async () => {
      const cwd = tempDir()
      const env = onPostgres(file) ? { ...process.env, DATABASE_URL: postgresUrl() } : process.env
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'examples', file), join(cwd, 'example.db')],
        { cwd: ROOT, timeout: 60_000, env },
      )
      expect(stdout.length).toBeGreaterThan(0)
    })
  }
})
