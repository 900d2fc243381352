import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonSerializer, KvU64, Valkeyrie } from '../../../src/index.js'
import { buildCli, type BuiltCli } from '../../support/cli.js'
import { tempDbPath } from '../../support/open-test-db.js'

let cli: BuiltCli
beforeAll(() => {
  cli = buildCli()
}, 60_000)
afterAll(() => cli?.remove())

const ok = (args: string[], input?: string) => {
  const result = cli.run(args, input === undefined ? {} : { input })
  expect(result.stderr, `valkeyrie ${args.join(' ')}`).toBe('')
  expect(result.code).toBe(0)
  return result.stdout
}
const jsonLines = (text: string): unknown[] => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown)

/** The bytes and modification time of a database's files, to show a command left them untouched. */
function snapshot(path: string): unknown {
  const folder = dirname(path)
  return readdirSync(folder)
    .sort()
    .map((name) => ({ name, bytes: readFileSync(join(folder, name)).toString('hex'), mtime: statSync(join(folder, name)).mtimeMs }))
}

describe('valkeyrie: every command', () => {
  it('prints help for the tool and for each command, with exit code 0', () => {
    const help = ok(['--help'])
    for (const name of ['info', 'get', 'set', 'delete', 'list', 'cleanup', 'export', 'import']) {
      expect(help).toContain(`  ${name}`)
      expect(ok([name, '--help'])).toMatch(new RegExp(`^valkeyrie ${name} <database>`))
    }
    expect(help).not.toMatch(/\bwatch\b/)
  })

  it('set, get, list, delete and info on a new file', () => {
    const path = tempDbPath()
    expect(ok(['set', path, '["users","ada"]', '{"name":"Ada","langs":{"$$":"Set","v":["en"]}}'])).toBe('00000000000000000001\n')
    ok(['set', path, '["users","alan"]', '{"name":"Alan"}'])
    ok(['set', path, '["count",{"$$":"bigint","v":"5"}]', '{"$$":"KvU64","v":"7"}'])
    expect(ok(['get', path, '["users","ada"]'])).toBe("{ name: 'Ada', langs: Set(1) { 'en' } }\n")
    expect(jsonLines(ok(['get', path, '["users","ada"]', '--json']))).toEqual([
      { key: ['users', 'ada'], value: { name: 'Ada', langs: { $$: 'Set', v: ['en'] } }, versionstamp: '00000000000000000001' },
    ])
    expect(ok(['list', path])).toBe(
      '["count", 5n]  KvU64 { value: 7n }\n["users", "ada"]  { name: \'Ada\', langs: Set(1) { \'en\' } }\n["users", "alan"]  { name: \'Alan\' }\n',
    )
    expect(jsonLines(ok(['list', path, '["users"]', '--json'])).map((e) => (e as { key: unknown }).key)).toEqual([
      ['users', 'ada'],
      ['users', 'alan'],
    ])
    ok(['delete', path, '["users","ada"]'])
    const info = jsonLines(ok(['info', path, '--json']))[0]
    expect(info).toMatchObject({ entries: 2, live: 2, expired: 0, serializer: 'v8', formatVersion: 1, versionstamp: '00000000000000000004' })
    expect(ok(['info', path])).toMatch(/^database {5}.*\nentries {6}2 \(2 live, 0 expired\)\nsize/)
  })

  it('list takes --start, --end, --limit and --reverse as the list API does', async () => {
    const path = tempDbPath()
    const db = await Valkeyrie.open(path)
    for (let i = 0; i < 6; i++) await db.set(['n', i], i)
    await db.close()
    const keys = (args: string[]) => jsonLines(ok(['list', path, ...args, '--json'])).map((e) => (e as { key: unknown[] }).key[1])
    expect(keys(['["n"]', '--start', '[2]', '--end', '[5]'])).toEqual([2, 3, 4])
    expect(keys(['["n"]', '--reverse', '--limit', '2'])).toEqual([5, 4])
    expect(keys(['--start', '["n", 4]', '--end', '["n", 9]'])).toEqual([4, 5])
  })

  it('cleanup deletes the expired entries; info counts them before', async () => {
    const path = tempDbPath()
    ok(['set', path, '["keep"]', '1'])
    ok(['set', path, '["gone"]', '1', '--expire-in', '1'])
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(jsonLines(ok(['info', path, '--json']))[0]).toMatchObject({ entries: 2, live: 1, expired: 1 })
    expect(ok(['cleanup', path])).toBe('deleted 1 expired entry\n')
    expect(jsonLines(ok(['info', path, '--json']))[0]).toMatchObject({ entries: 1, live: 1, expired: 0 })
  })

  it('finds the serializer a database records; a wrong --serializer is an error', async () => {
    const path = tempDbPath()
    const db = await Valkeyrie.open(path, { serializer: jsonSerializer })
    await db.set(['d'], new Date(0))
    await db.close()
    expect(ok(['get', path, '["d"]'])).toBe('1970-01-01T00:00:00.000Z\n')
    const wrong = cli.run(['get', path, '["d"]', '--serializer', 'v8'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/written with the json serializer, but was opened with the v8 serializer/)
    ok(['set', tempDbPath(), '["x"]', '1', '--serializer', 'cbor-x'])
  })

  it('a missing key: get exits with 1, a note on stderr', () => {
    const path = tempDbPath()
    ok(['set', path, '["a"]', '1'])
    const result = cli.run(['get', path, '["b"]'])
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'no entry at ["b"]\n' })
  })

  it('progress stays off stderr when it is not a terminal', async () => {
    const path = tempDbPath()
    const db = await Valkeyrie.open(path)
    await db.load(Array.from({ length: 3000 }, (_, i) => ({ key: ['k', i], value: i })))
    await db.close()
    const result = cli.run(['export', path])
    expect(result.stderr).toBe('')
    expect(result.stdout.split('\n').length).toBe(3001)
  })

  // util-linux `script` runs the command on a pseudo-terminal (stdout and stderr both), as a user's shell does.
  const hasScript = spawnSync('script', ['--version']).status === 0
  it.skipIf(!hasScript)('shows progress on stderr when it is a terminal, then clears it', async () => {
    const path = tempDbPath()
    const db = await Valkeyrie.open(path)
    await db.set(['a'], 1)
    await db.close()
    const result = spawnSync('script', ['-qec', `"${process.execPath}" "${cli.main}" export "${path}"`, '/dev/null'])
    const screen = result.stdout.toString('utf8')
    expect(result.status).toBe(0)
    // Cursor to column 1 and clear the line (ESC[1G ESC[2K), the progress text, cleared again before the line.
    expect(screen).toContain('\u001b[1G\u001b[2Kexported 1 entry\u001b[1G\u001b[2K{"key":["a"],"value":1}')
  })
})

describe('valkeyrie: bad input is one line on stderr, a non-zero exit, and the file untouched', () => {
  const cases: [string, (path: string) => string[], number, RegExp][] = [
    ['an unknown command', (path) => ['bogus', path], 2, /^valkeyrie: unknown command "bogus": use one of info, get, set/],
    ['an unknown option', (path) => ['get', path, '["a"]', '--nope'], 2, /^valkeyrie: get: Unknown option '--nope'/],
    ['a key that is not JSON', (path) => ['set', path, 'users', '1'], 2, /^valkeyrie: key must be JSON, such as '\["users", "ada"\]': received "users"/],
    ['a key that is not an array', (path) => ['get', path, '{"a":1}'], 2, /^valkeyrie: key must be a JSON array: received an object/],
    ['a key part of another type', (path) => ['delete', path, '["a", null]'], 2, /^valkeyrie: key\[1\] must be a string, number, boolean, bigint or bytes: received null/],
    ['a malformed tag in a key', (path) => ['get', path, '[{"$$":"bigint","v":"1.5"}]'], 2, /^valkeyrie: malformed "bigint" tag at key\[0\]/],
    ['a value that is not JSON', (path) => ['set', path, '["a"]', 'hello'], 2, /^valkeyrie: value must be JSON, such as/],
    ['an unknown tag in a value', (path) => ['set', path, '["a"]', '{"$$":"Wat","v":1}'], 2, /^valkeyrie: unknown tag "Wat" at value/],
    ['a KvU64 out of range', (path) => ['set', path, '["a"]', '{"$$":"KvU64","v":"18446744073709551616"}'], 2, /^valkeyrie: KvU64 value must be between 0 and 2\^64-1/],
    ['a negative --expire-in', (path) => ['set', path, '["a"]', '1', '--expire-in', '-5'], 2, /^valkeyrie: set: /],
    ['missing arguments', (path) => ['set', path, '["a"]'], 2, /^valkeyrie: set: missing arguments: valkeyrie set <database> <key> <value>/],
    ['an unknown serializer', (path) => ['info', path, '--serializer', 'yaml'], 2, /^valkeyrie: unknown serializer "yaml": use one of v8, json/],
    ['a value the serializer refuses', (path) => ['set', path, '["a"]', '{"$$":"Map","v":[[1,2]]}', '--serializer', 'bson'], 1, /written with the v8 serializer/],
    ['a key too large', (path) => ['set', path, `["${'k'.repeat(3000)}"]`, '1'], 2, /^valkeyrie: Key too large for write \(max 2048 bytes\)/],
  ]
  for (const [what, args, code, message] of cases) {
    it(what, async () => {
      const path = tempDbPath()
      const db = await Valkeyrie.open(path)
      await db.set(['a'], 'before')
      await db.close()
      const before = snapshot(path)
      const result = cli.run(args(path))
      expect(result.stderr).toMatch(message)
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
      expect(result.code).toBe(code)
      expect(result.stdout).toBe('')
      expect(snapshot(path)).toEqual(before)
    })
  }

  it('a value the serializer refuses, on its own database: exit 2 and nothing written', async () => {
    const path = tempDbPath()
    ok(['set', path, '["a"]', '1', '--serializer', 'bson'])
    const before = snapshot(path)
    const result = cli.run(['set', path, '["b"]', '{"$$":"Map","v":[[1,2]]}'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^valkeyrie: the bson serializer cannot store a Map/)
    expect(snapshot(path)).toEqual(before)
  })

  it('a missing database: a clear message naming it, exit 1, and no file created', () => {
    const path = tempDbPath('missing.db')
    for (const command of [['info'], ['get', '["a"]'], ['list'], ['export'], ['delete', '["a"]'], ['cleanup']]) {
      const [name, ...rest] = command as [string, ...string[]]
      const result = cli.run([name, path, ...rest])
      expect(result.code, name).toBe(1)
      expect(result.stderr).toMatch(new RegExp(`^valkeyrie: cannot open ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it does not exist`))
      expect(existsSync(path)).toBe(false)
    }
  })

  it('no command at all prints the help and exits with 2', () => {
    const result = cli.run([])
    expect(result.code).toBe(2)
    expect(result.stdout).toMatch(/^valkeyrie <command> <database>/)
  })

  it('KvU64 values written with set are counters the API can sum', async () => {
    const path = tempDbPath()
    ok(['set', path, '["hits"]', '{"$$":"KvU64","v":"41"}'])
    const db = await Valkeyrie.open(path)
    await db.atomic().sum(['hits'], 1n).commit()
    expect((await db.get(['hits'])).value).toEqual(new KvU64(42n))
    await db.close()
  })
})
