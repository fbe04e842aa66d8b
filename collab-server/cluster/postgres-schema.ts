/**
 * The PostgreSQL schema of cluster mode and its migration, run by every relay
 * at start. Steps are numbered and applied once each, in order, under an
 * advisory lock, so relays starting together migrate one at a time and a
 * second run changes nothing.
 */
import type { Pool } from 'pg';

// Any constant works; this one is "inkwell" in ASCII, so it is recognisable in pg_locks.
const MIGRATION_LOCK_ID = 0x696e6b77656c6c;

/** Each step runs in the migration's transaction; never edit a step once released: add one. */
const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE inkwell_documents (
        doc_id text PRIMARY KEY,
        -- The document folded up to snapshot_through_seq of its Redis log; null until first compacted.
        snapshot bytea,
        state_vector bytea,
        snapshot_through_seq bigint NOT NULL DEFAULT 0,
        -- Share links issued at or before this time (ms since the epoch) are void.
        links_reset_at bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
  },
];

/** Brings the database up to the schema this relay needs; returns the versions it applied (none when up to date). */
export async function migrate(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query('CREATE TABLE IF NOT EXISTS inkwell_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM inkwell_schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const newlyApplied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO inkwell_schema_migrations (version) VALUES ($1)', [migration.version]);
      newlyApplied.push(migration.version);
    }
    await client.query('COMMIT');
    return newlyApplied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
