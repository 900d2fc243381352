/**
 * Typed collections: `npx tsx examples/collections.ts [path]` (default ./collections.db).
 * A small blog: users with a unique email index, posts listed by author, and a commit over both collections.
 */
import { z } from 'zod'
import { UniqueConstraintError, ValidationError, Valkeyrie } from 'valkeyrie'

const User = z.object({
  name: z.string().min(1),
  email: z.email().transform((email) => email.toLowerCase()),
  joined: z.date().default(() => new Date()),
})

const Post = z.object({
  author: z.string(), // a user id
  title: z.string().min(1),
  body: z.string(),
  tags: z.array(z.string()).default([]),
})

const path = process.argv[2] ?? './collections.db'
await using db = await Valkeyrie.open(path)

const users = db.collection(['users'], User, {
  indexes: { email: { on: (user) => user.email, unique: true } },
})
const posts = db.collection(['posts'], Post, {
  indexes: { author: (post) => post.author },
})

// Writes take the schema's input and store its output: the email is stored in lower case, `joined` defaults.
await users.set('ada', { name: 'Ada Lovelace', email: 'Ada@Example.com' })
await users.set('alan', { name: 'Alan Turing', email: 'alan@example.com' })

// A second account with the same email is refused, and nothing is written.
try {
  await users.set('impostor', { name: 'Not Ada', email: 'ADA@example.com' })
} catch (error) {
  if (!(error instanceof UniqueConstraintError)) throw error
  console.log('refused:', error.message)
}

// So is an invalid value, with the schema's issues.
try {
  await users.set('nobody', { name: '', email: 'not an email' })
} catch (error) {
  if (!(error instanceof ValidationError)) throw error
  console.log('invalid:', error.issues.map((issue) => `${issue.path?.join('.')}: ${issue.message}`))
}

// A new user and her first post commit together, or not at all.
const op = db.atomic()
users.in(op).check('grace', null).set('grace', { name: 'Grace Hopper', email: 'grace@example.com' })
posts.in(op).set('2024-01-grace', { author: 'grace', title: 'Nanoseconds', body: 'A foot of wire.' })
console.log('grace joined:', (await op.commit()).ok ? 'yes' : 'already there')

await posts.set('2024-02-ada', { author: 'ada', title: 'Notes', body: 'On the Analytical Engine.', tags: ['math'] })
await posts.set('2024-03-ada', { author: 'ada', title: 'Bernoulli numbers', body: 'Note G.' })
await posts.set('2024-03-alan', { author: 'alan', title: 'Computable numbers', body: 'On them.' })

// Reads are typed by the schema's output.
const ada = await users.findBy('email', 'ada@example.com')
console.log('found by email:', ada?.id, ada?.value.name, ada?.value.joined instanceof Date)

for await (const { id, value } of posts.listBy('author', 'ada')) console.log('ada wrote:', id, value.title, value.tags)

// Changing a value moves its index entries: the old email is free again.
await users.set('ada', { name: 'Ada Lovelace', email: 'countess@example.com' })
console.log('old email now:', (await users.findBy('email', 'ada@example.com'))?.id ?? 'free')

// Deleting a post removes it from its author's list.
await posts.delete('2024-02-ada')
console.log('ada now has', (await Array.fromAsync(posts.listBy('author', 'ada'))).length, 'post(s)')

for await (const { id, value } of users.list()) console.log('user:', id, value.name, value.email)
