/**
 * The peers benchmark's fixtures, built once per bench invocation and dropped at the end: a small
 * Pulse warehouse (for the gold tables' columns), ~10 M order lines in a DuckDB file (peers-data.ts),
 * the same rows copied into PostgreSQL with a materialized view of the KPI over them, and a bronze
 * of ~2 M generated events for `pulse backfill` (made with `pulse generate` and `pulse ingest` while
 * DuckDB builds the lines: the ingest keeps about one core busy, the build the other).
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveKpis, loadCatalogue } from '../src/kpis/index.js';
import { buildData, kpiSql, type BuiltData } from './peers-data.js';
import { connectPg, pgType, type Pg } from './peers-pg.js';
import { ingestGenerated } from './pulse-cli.js';
import { formatNumber } from './stats.js';

/** ~2 M events: 10 days at 5,200 orders a day (the generator's sessions, shipments… included). */
const BRONZE = { days: '10', rate: '5200' };

export interface PeersFixture {
  readonly dir: string;
  readonly dbPath: string;
  readonly connection: DuckDBConnection;
  /** Pulse's live values of net_revenue over the same file, on their own connection. */
  readonly live: LiveKpis;
  readonly pg: Pg;
  readonly schema: string;
  readonly data: BuiltData;
  readonly bronzeDb: string;
  readonly bronzeEvents: number;
  /** What the setup took, for the notes. */
  readonly setupNotes: readonly string[];
  close(): Promise<void>;
}

const seconds = (since: number): string => `${formatNumber((performance.now() - since) / 1000, 1)} s`;

export async function setUpPeers(log: (line: string) => void): Promise<PeersFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-peers-'));
  // A superuser's server-side COPY reads the CSV files as the postgres user.
  chmodSync(dir, 0o755);
  const schema = `pulse_bench_peers_${process.pid}`;
  const notes: string[] = [];
  let instance: DuckDBInstance | undefined;
  let pg: Pg | undefined;
  let bronze: Promise<unknown> | undefined;
  const cleanUp = async (): Promise<void> => {
    instance?.closeSync();
    await pg?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    pg = await connectPg();
    const t0 = performance.now();
    await ingestGenerated(dir, ['--days', '1', '--rate', '300'], 'schema.duckdb');
    const bronzeDb = join(dir, 'bronze.duckdb');
    const loading = ingestGenerated(dir, ['--days', BRONZE.days, '--rate', BRONZE.rate], bronzeDb, [
      '--batch',
      '20000',
    ]);
    // Awaited below, or on failure before the folder goes: an early rejection must not go unhandled.
    bronze = loading.catch(() => undefined);
    const dbPath = join(dir, 'peers.duckdb');
    instance = await DuckDBInstance.create(dbPath, { memory_limit: '2GB', threads: '2' });
    const connection = await instance.connect();
    const t1 = performance.now();
    const data = await buildData(connection, join(dir, 'schema.duckdb'), Date.now());
    notes.push(
      `${formatNumber(data.lines)} order lines and ${formatNumber(data.refunds)} refunds built in ${seconds(t1)} ` +
        `(while \`pulse ingest\` loaded the bronze), KPI of ${formatNumber(data.groups)} channel × minute buckets.`,
    );
    log(`peers: ${notes.at(-1)}`);

    const t2 = performance.now();
    const csv = join(dir, 'csv');
    await connection.run(`COPY fact_order TO '${csv}' (FORMAT csv, HEADER false, PER_THREAD_OUTPUT true)`);
    chmodSync(csv, 0o755);
    const exported = seconds(t2);
    const columns = (await connection.runAndReadAll(`DESCRIBE fact_order`)).getRowObjectsJson();
    await pg.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pg.query(
      `CREATE SCHEMA ${schema}; CREATE UNLOGGED TABLE ${schema}.fact_order (${columns
        .map((c) => `${String(c.column_name)} ${pgType(String(c.column_type))}`)
        .join(', ')})`,
    );
    const t3 = performance.now();
    const db = pg;
    const files = readdirSync(csv);
    await Promise.all(files.map((file) => db.copyCsv(`${schema}.fact_order`, join(csv, file))));
    const copied = seconds(t3);
    rmSync(csv, { recursive: true, force: true });
    const t4 = performance.now();
    await pg.query(`VACUUM ANALYZE ${schema}.fact_order`);
    await pg.query(
      `CREATE MATERIALIZED VIEW ${schema}.kpi_minute AS ${kpiSql().replace('FROM fact_order', `FROM ${schema}.fact_order`)} WITH NO DATA`,
    );
    const size = await pg.query(`SELECT pg_size_pretty(pg_total_relation_size('${schema}.fact_order'))`);
    notes.push(
      `PostgreSQL: the same rows exported by DuckDB as CSV in ${exported}, loaded by COPY (${files.length} sessions at once` +
        `${pg.superuser ? ', server-side' : ', through psql'}) in ${copied} into an UNLOGGED table of ${size}, ` +
        `VACUUM ANALYZE ${seconds(t4)}; ${pg.settings}, database \`${pg.database}\`.`,
    );
    log(`peers: ${notes.at(-1)}`);

    const ingest = await loading;
    const bronzeEvents = Number(
      (JSON.parse(ingest.stdout.trim().split('\n').pop() ?? '{}') as { accepted?: number }).accepted ?? 0,
    );
    notes.push(
      `Bronze for \`pulse backfill\`: \`pulse generate --days ${BRONZE.days} --rate ${BRONZE.rate}\` then \`pulse ingest\` ` +
        `(${formatNumber(bronzeEvents)} events accepted, in ${formatNumber(ingest.wallMs / 1000, 1)} s, peak RSS ` +
        `${formatNumber(ingest.peakRssBytes / 2 ** 20)} MiB); its file: ${formatNumber(statSync(bronzeDb).size / 2 ** 20)} MiB. ` +
        `Setup in all: ${seconds(t0)}.`,
    );
    log(`peers: ${notes.at(-1)}`);

    const catalogue = loadCatalogue();
    const live = new LiveKpis(
      await instance.connect(),
      { ...catalogue, kpis: catalogue.kpis.filter((kpi) => kpi.id === 'net_revenue') },
      { timeZone: 'Europe/Paris' },
    );
    return {
      dir,
      dbPath,
      connection,
      live,
      pg,
      schema,
      data,
      bronzeDb,
      bronzeEvents,
      setupNotes: notes,
      close: cleanUp,
    };
  } catch (error) {
    await bronze;
    await cleanUp();
    throw error;
  }
}
