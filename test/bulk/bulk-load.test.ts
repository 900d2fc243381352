/**
 * Bulk loads of 100,000 entries over 1 KB each: far more bytes than one commit may hold (819,200), so they pass
 * only when the batching splits by bytes as well as by count. Slow (tens of seconds): npm run test:bulk.
 */
import { createWriteStream, readFileSync } from 'node:fs'
import { finished } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Valkeyrie } from '../../src/index.js'
import { buildCli, type BuiltCli } from '../support/cli.js'
import { tempDbPath } from '../support/open-test-db.js'

const COUNT = 100_000
const PAD = 'x'.repeat(1100)

let cli: BuiltCli
beforeAll(() => {
  cli = buildCli()
}, 60_000)
afterAll(() => cli?.remove())

describe('bulk loads of 100,000 entries over 1 KB', () => {
  it('Valkeyrie.fromAsync writes them all without a limit error', async () => {
    async function* items() {
      for (let id = 0; id < COUNT; id++) yield { id, pad: PAD }
    }
    let progress = 0
    const db = await Valkeyrie.fromAsync(items(), { path: tempDbPath(), prefix: ['items'], keyProperty: 'id', onProgress: (n) => (progress = n) })
    expect(progress).toBe(COUNT)
    expect(await db.info()).toMatchObject({ entries: COUNT, live: COUNT })
    expect((await db.get(['items', COUNT - 1])).value).toEqual({ id: COUNT - 1, pad: PAD })
    await db.close()
  })

  it('valkeyrie import reads them from stdin, and export gives the same lines back', async () => {
    const input = tempDbPath('bulk.jsonl')
    const out = createWriteStream(input)
    for (let i = 0; i < COUNT; i++) {
      if (!out.write(`${JSON.stringify({ key: ['items', i], value: { id: i, pad: PAD } })}\n`)) {
        await new Promise<void>((resolve) => out.once('drain', () => resolve()))
      }
    }
    out.end()
    await finished(out)
    const lines = readFileSync(input)
    const path = tempDbPath()
    const imported = cli.run(['import', path], { input: lines })
    expect(imported).toMatchObject({ code: 0, stderr: '', stdout: `imported ${COUNT} entries\n` })
    const info = JSON.parse(cli.run(['info', path, '--json']).stdout) as { entries: number }
    expect(info.entries).toBe(COUNT)
    // Keys sort by number, as they were written: the export is the input itself.
    const exported = cli.run(['export', path])
    expect(exported.code).toBe(0)
    expect(exported.stdout === lines.toString('utf8')).toBe(true)
  })
})
