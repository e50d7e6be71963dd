import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The quality tables. They are created by the quality stage itself (idempotently) rather than by
 * the warehouse migrations, so the stage owns its schema; the quarantine table belongs to the
 * warehouse and is never altered: its remediation state lives beside it.
 */
const DDL = `
  CREATE TABLE IF NOT EXISTS quality_scorecard (
    rule_id            VARCHAR NOT NULL,
    table_name         VARCHAR NOT NULL,
    kind               VARCHAR NOT NULL,
    severity           VARCHAR NOT NULL,
    day                DATE    NOT NULL,
    checked            BIGINT  NOT NULL,
    failed             BIGINT  NOT NULL,
    evaluations        BIGINT  NOT NULL,
    failed_evaluations BIGINT  NOT NULL,
    last_status        VARCHAR NOT NULL,
    last_run_at        TIMESTAMPTZ NOT NULL,
    last_failed_at     TIMESTAMPTZ,
    sample             VARCHAR,
    PRIMARY KEY (rule_id, day)
  );
  CREATE TABLE IF NOT EXISTS quality_events (
    event_id    VARCHAR PRIMARY KEY,
    raised_at   TIMESTAMPTZ NOT NULL,
    kind        VARCHAR NOT NULL,
    rule_id     VARCHAR,
    kpi_id      VARCHAR,
    table_name  VARCHAR,
    severity    VARCHAR,
    failed      BIGINT,
    detail      VARCHAR
  );
  CREATE TABLE IF NOT EXISTS quarantine_state (
    quarantine_id BIGINT PRIMARY KEY,
    status        VARCHAR NOT NULL,
    rule          VARCHAR NOT NULL,
    field         VARCHAR NOT NULL,
    message       VARCHAR NOT NULL,
    event_id      VARCHAR,
    updated_at    TIMESTAMPTZ NOT NULL,
    updated_by    VARCHAR NOT NULL
  );
  CREATE TABLE IF NOT EXISTS quarantine_remediations (
    remediation_id VARCHAR NOT NULL,
    quarantine_id  BIGINT  NOT NULL,
    replayed_at    TIMESTAMPTZ NOT NULL,
    key_id         VARCHAR NOT NULL,
    fix            VARCHAR NOT NULL,
    outcome        VARCHAR NOT NULL,
    rule           VARCHAR,
    field          VARCHAR,
    message        VARCHAR,
    event_id       VARCHAR
  );`;

export async function ensureQualityTables(connection: DuckDBConnection): Promise<void> {
  await connection.run(DDL);
}
