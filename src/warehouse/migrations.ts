import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The tables Pulse owns outside the SQL models: the raw landing zone (bronze), the quarantine and
 * the bookkeeping of model runs. Each migration runs once, in order, recorded in pulse_migrations.
 */
const MIGRATIONS: readonly { id: number; sql: string }[] = [
  {
    id: 1,
    sql: `
      CREATE TABLE bronze_events (
        ingest_seq   BIGINT      NOT NULL,
        event_id     VARCHAR     PRIMARY KEY,
        event_type   VARCHAR     NOT NULL,
        source       VARCHAR     NOT NULL,
        event_time   TIMESTAMPTZ,
        ingested_at  TIMESTAMPTZ NOT NULL,
        batch_id     VARCHAR     NOT NULL,
        data         VARCHAR     NOT NULL
      );
      CREATE TABLE quarantine (
        quarantine_id BIGINT      NOT NULL,
        received_at   TIMESTAMPTZ NOT NULL,
        batch_id      VARCHAR     NOT NULL,
        source_kind   VARCHAR     NOT NULL,
        event_id      VARCHAR,
        event_type    VARCHAR,
        rule          VARCHAR     NOT NULL,
        field         VARCHAR     NOT NULL,
        message       VARCHAR     NOT NULL,
        payload       VARCHAR     NOT NULL
      );
      CREATE TABLE pulse_model_state (
        model        VARCHAR PRIMARY KEY,
        watermark    BIGINT  NOT NULL,
        sql_hash     VARCHAR NOT NULL,
        updated_at   TIMESTAMPTZ NOT NULL
      );
      CREATE TABLE pulse_runs (
        run_id       VARCHAR PRIMARY KEY,
        started_at   TIMESTAMPTZ NOT NULL,
        finished_at  TIMESTAMPTZ,
        mode         VARCHAR NOT NULL,
        status       VARCHAR NOT NULL,
        watermark_from BIGINT,
        watermark_to   BIGINT,
        models       VARCHAR,
        error        VARCHAR
      );`,
  },
  {
    // Dedupe on a 128-bit digest of the event id instead of the id text: the primary-key index
    // is a third cheaper to maintain, and two ids sharing an MD5 (2^-128) is not a real risk.
    id: 2,
    sql: `
      CREATE TABLE bronze_events_v2 (
        event_key    UHUGEINT    PRIMARY KEY,
        ingest_seq   BIGINT      NOT NULL,
        event_id     VARCHAR     NOT NULL,
        event_type   VARCHAR     NOT NULL,
        source       VARCHAR     NOT NULL,
        event_time   TIMESTAMPTZ,
        ingested_at  TIMESTAMPTZ NOT NULL,
        batch_id     VARCHAR     NOT NULL,
        data         VARCHAR     NOT NULL
      );
      INSERT INTO bronze_events_v2 SELECT md5_number(event_id), * FROM bronze_events ORDER BY ingest_seq;
      DROP TABLE bronze_events;
      ALTER TABLE bronze_events_v2 RENAME TO bronze_events;`,
  },
  {
    id: 3,
    sql: `
      CREATE TABLE pulse_api_keys (
        key_id      VARCHAR PRIMARY KEY,
        name        VARCHAR NOT NULL,
        secret_sha256 VARCHAR NOT NULL,
        roles       VARCHAR[] NOT NULL,
        created_at  TIMESTAMPTZ NOT NULL,
        expires_at  TIMESTAMPTZ,
        revoked_at  TIMESTAMPTZ
      );`,
  },
  {
    id: 4,
    sql: `
      CREATE TABLE alert_events (
        id          VARCHAR PRIMARY KEY,
        occurred_at TIMESTAMPTZ NOT NULL,
        rule_id     VARCHAR NOT NULL,
        alert_key   VARCHAR NOT NULL,
        kpi         VARCHAR NOT NULL,
        transition  VARCHAR NOT NULL,
        level       VARCHAR,
        value       VARCHAR,
        as_of       TIMESTAMPTZ,
        notice      VARCHAR NOT NULL
      );
      CREATE TABLE alert_deliveries (
        message_id  VARCHAR NOT NULL,
        kind        VARCHAR NOT NULL,
        channel     VARCHAR NOT NULL,
        attempt     INTEGER NOT NULL,
        outcome     VARCHAR NOT NULL,
        status      INTEGER,
        error       VARCHAR,
        attempted_at TIMESTAMPTZ NOT NULL,
        duration_ms INTEGER NOT NULL
      );`,
  },
  {
    id: 5,
    sql: `
      CREATE TABLE pulse_kpi_comments (
        comment_id  VARCHAR PRIMARY KEY,
        kpi_id      VARCHAR NOT NULL,
        author      VARCHAR NOT NULL,
        key_id      VARCHAR NOT NULL,
        body        VARCHAR NOT NULL,
        created_at  TIMESTAMPTZ NOT NULL
      );`,
  },
  {
    // Run history: what triggered a run, which failed run it retries, how long it took; SLA breaches.
    id: 6,
    sql: `
      ALTER TABLE pulse_runs ADD COLUMN trigger VARCHAR;
      ALTER TABLE pulse_runs ADD COLUMN retry_of VARCHAR;
      ALTER TABLE pulse_runs ADD COLUMN duration_ms DOUBLE;
      CREATE TABLE pulse_sla_breaches (
        job          VARCHAR     NOT NULL,
        run_id       VARCHAR,
        breached_at  TIMESTAMPTZ NOT NULL,
        sla_ms       DOUBLE      NOT NULL,
        actual_ms    DOUBLE      NOT NULL,
        detail       VARCHAR
      );`,
  },
  {
    // ε spent per key (or token subject) per UTC day, in millionths so sums are exact.
    id: 7,
    sql: `
      CREATE TABLE pulse_dp_budget (
        principal   VARCHAR NOT NULL,
        day         DATE    NOT NULL,
        spent_micro BIGINT  NOT NULL,
        updated_at  TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (principal, day)
      );`,
  },
  {
    // Bronze without its primary key: the writer deduplicates against the keys in memory
    // (src/warehouse/event-keys.ts), because DuckDB rewrites a whole ART index at every checkpoint.
    id: 8,
    sql: `
      CREATE TABLE bronze_events_v3 (
        event_key    UHUGEINT    NOT NULL,
        ingest_seq   BIGINT      NOT NULL,
        event_id     VARCHAR     NOT NULL,
        event_type   VARCHAR     NOT NULL,
        source       VARCHAR     NOT NULL,
        event_time   TIMESTAMPTZ,
        ingested_at  TIMESTAMPTZ NOT NULL,
        batch_id     VARCHAR     NOT NULL,
        data         VARCHAR     NOT NULL
      );
      INSERT INTO bronze_events_v3 SELECT * FROM bronze_events ORDER BY ingest_seq;
      DROP TABLE bronze_events;
      ALTER TABLE bronze_events_v3 RENAME TO bronze_events;`,
  },
];

export async function migrate(connection: DuckDBConnection): Promise<void> {
  await connection.run(
    `CREATE TABLE IF NOT EXISTS pulse_migrations (id INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`,
  );
  const applied = await connection.runAndReadAll(`SELECT id FROM pulse_migrations`);
  const done = new Set(applied.getRowObjectsJson().map((row) => Number(row.id)));
  for (const migration of MIGRATIONS) {
    if (done.has(migration.id)) continue;
    await connection.run('BEGIN TRANSACTION');
    try {
      await connection.run(migration.sql);
      await connection.run(`INSERT INTO pulse_migrations VALUES (${migration.id}, now())`);
      await connection.run('COMMIT');
    } catch (error) {
      await connection.run('ROLLBACK');
      throw error;
    }
  }
}
