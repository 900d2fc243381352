import { defineConfig } from 'drizzle-kit'

// The PostgreSQL tables: `npm run db:generate` writes their migrations to drizzle/postgres/.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/storage/postgres/schema.ts',
  out: './drizzle/postgres',
})
