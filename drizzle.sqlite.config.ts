import { defineConfig } from 'drizzle-kit'

// The SQLite tables: `npm run db:generate` writes their migrations to drizzle/sqlite/.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/storage/sqlite/schema.ts',
  out: './drizzle/sqlite',
})
