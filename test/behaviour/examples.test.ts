/** Every file in examples/ runs to completion in its own process. */
import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../support/open-test-db.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.ts'))

describe('examples', () => {
  for (const file of examples) {
    it(`runs examples/${file}`, async () => {
      const cwd = tempDir()
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'examples', file), join(cwd, 'example.db')],
        { cwd: ROOT, timeout: 60_000 },
      )
      expect(stdout.length).toBeGreaterThan(0)
    })
  }
})
