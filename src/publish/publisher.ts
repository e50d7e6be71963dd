import { finished } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import pgCopy from 'pg-copy-streams';
import type { LiveKpis } from '../kpis/index.js';
import type { ModelDefinition } from '../models/index.js';
import { queryRows } from '../warehouse/index.js';
import { copyLine, martColumn, quoteIdent, type MartColumn } from './columns.js';
import { createTableDdl, stateTableDdl, viewsDdl } from './marts-ddl.js';

export interface MartsOptions {
  /** postgres://user@host:port/database */
  readonly url: string;
  /** The schema the marts live in. */
  readonly schema: string;
  /** The business time zone the daily views use. */
  readonly timeZone: string;
  /** Database roles that are marketplace sellers: role name → seller id. */
  readonly sellerRoles?: Readonly<Record<string, string>>;
  /** Longest wait between retries while PostgreSQL is unreachable. */
  readonly retryMaxMs?: number;
  /** Shortest time between two publishes: commits in between are published together. */
  readonly minIntervalMs?: number;
}

export interface MartsHealth {
  readonly status: 'starting' | 'ok' | 'failing';
  readonly schema: string;
  readonly last_published_at: string | null;
  /** The lowest ingest sequence published for every table. */
  readonly watermark: string | null;
  readonly error?: string;
  readonly warnings?: readonly string[];
  readonly consecutive_failures: number;
}

export interface PublishResult {
  readonly relations: readonly { relation: string; mode: 'full' | 'incremental' | 'skipped'; rows: number }[];
  readonly watermark: bigint | null;
  readonly durationMs: number;
}

interface PublishedState {
  readonly watermark: bigint;
  readonly signature: string;
  readonly fingerprint: string | null;
}

const STAGE = 'pulse_stage';

/**
 * Publishes the gold tables and the live KPI values into PostgreSQL for BI tools. It runs beside
 * the pipeline, never in it: `request()` only raises a flag, and a failing or absent PostgreSQL
 * makes it retry with backoff while ingest and refreshes carry on. Each publish reads one DuckDB
 * snapshot and writes one PostgreSQL transaction that also moves its watermarks, so a restart or
 * a lost connection resumes exactly where the last committed publish ended.
 */
export class MartsPublisher {
  readonly #duck: DuckDBConnection;
  readonly #models: readonly ModelDefinition[];
  readonly #live: LiveKpis | undefined;
  readonly #options: MartsOptions;
  #client: pg.Client | undefined;
  #pending = false;
  #running: Promise<void> | undefined;
  /** The publish in progress: publishes share one DuckDB and one PostgreSQL connection, so they queue. */
  #publishing: Promise<unknown> = Promise.resolve();
  #closed = false;
  #wake: (() => void) | undefined;
  #failures = 0;
  #lastError: string | undefined;
  #lastPublishedAt: Date | undefined;
  #lastPublishStarted = 0;
  #watermark: bigint | null = null;
  #setupDone = false;
  #warnings: readonly string[] = [];
  #recent: PublishResult[] = [];

  constructor(
    duck: DuckDBConnection,
    models: readonly ModelDefinition[],
    live: LiveKpis | undefined,
    options: MartsOptions,
  ) {
    this.#duck = duck;
    this.#models = models.filter((model) => model.layer === 'gold');
    this.#live = live;
    this.#options = options;
  }

  /** A refresh finished: publish soon. Never waits and never throws. */
  request(): void {
    if (this.#closed) return;
    this.#pending = true;
    if (!this.#running) this.#running = this.#loop().finally(() => (this.#running = undefined));
  }

  /** Publishes now and resolves once a publish that started after the call has committed. */
  async publishNow(): Promise<PublishResult> {
    while (this.#running) await this.#running;
    return this.#publish();
  }

  /** The last 50 successful publishes, oldest first. */
  get recent(): readonly PublishResult[] {
    return this.#recent;
  }

  health(): MartsHealth {
    return {
      status: this.#lastError ? 'failing' : this.#lastPublishedAt ? 'ok' : 'starting',
      schema: this.#options.schema,
      last_published_at: this.#lastPublishedAt?.toISOString() ?? null,
      watermark: this.#watermark?.toString() ?? null,
      ...(this.#lastError ? { error: this.#lastError } : {}),
      ...(this.#warnings.length > 0 ? { warnings: this.#warnings } : {}),
      consecutive_failures: this.#failures,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    while (this.#running) await this.#running;
    await this.#disconnect();
  }

  async #loop(): Promise<void> {
    while (this.#pending && !this.#closed) {
      const wait = this.#lastPublishStarted + (this.#options.minIntervalMs ?? 200) - Date.now();
      if (wait > 0) await this.#sleep(wait);
      if (this.#closed) return;
      this.#pending = false;
      try {
        await this.#publish();
      } catch {
        // Recorded by #publish; retry with backoff, keeping everything not yet published pending.
        this.#pending = true;
        const backoff = Math.min(this.#options.retryMaxMs ?? 30_000, 250 * 2 ** Math.min(this.#failures, 10));
        await this.#sleep(backoff);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #connect(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    const client = new pg.Client({
      connectionString: this.#options.url,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      application_name: 'pulse-marts',
    });
    // A broken connection is dropped and reopened by the next publish.
    client.on('error', () => {
      if (this.#client === client) this.#client = undefined;
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.#client = client;
    this.#setupDone = false;
    return client;
  }

  async #disconnect(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  /**
   * One publish at a time. `publishNow` and the loop may ask at once (a refresh ends while a caller
   * publishes): two would each BEGIN on the same DuckDB connection, and the one that failed would
   * close the PostgreSQL connection under the other.
   */
  #publish(): Promise<PublishResult> {
    const next = this.#publishing.then(() => this.#publishOnce());
    this.#publishing = next.catch(() => undefined);
    return next;
  }

  async #publishOnce(): Promise<PublishResult> {
    this.#lastPublishStarted = Date.now();
    const started = performance.now();
    try {
      const client = await this.#connect();
      if (!this.#setupDone) {
        await client.query(stateTableDdl(this.#options.schema));
        this.#setupDone = true;
      }
      const result = await this.#publishSnapshot(client);
      this.#failures = 0;
      this.#lastError = undefined;
      this.#lastPublishedAt = new Date();
      const published = { ...result, durationMs: performance.now() - started };
      this.#recent = [...this.#recent.slice(-49), published];
      return published;
    } catch (error) {
      this.#failures += 1;
      this.#lastError = error instanceof Error ? error.message.split('\n')[0] : String(error);
      await this.#disconnect();
      throw error;
    }
  }

  async #publishSnapshot(client: pg.Client): Promise<Omit<PublishResult, 'durationMs'>> {
    const schema = this.#options.schema;
    const duck = this.#duck;
    await duck.run('BEGIN TRANSACTION');
    try {
      await client.query('BEGIN');
      try {
        const states = await this.#publishedStates(client);
        const modelStates = new Map(
          (await queryRows(duck, `SELECT model, watermark::VARCHAR AS watermark FROM pulse_model_state`)).map(
            (row) => [String(row.model), BigInt(String(row.watermark))],
          ),
        );
        const relations: PublishResult['relations'][number][] = [];
        const present = new Set<string>();
        let recreated = false;
        let lowest: bigint | null = null;
        for (const model of this.#models) {
          const columns = await this.#columns(model.name);
          const duckWatermark = modelStates.get(model.name);
          if (columns.length === 0 || duckWatermark === undefined) continue; // not built yet
          present.add(model.name);
          const outcome = await this.#publishModel(
            client,
            model,
            columns,
            duckWatermark,
            states.get(model.name),
          );
          recreated ||= outcome.recreated;
          relations.push({ relation: model.name, mode: outcome.mode, rows: outcome.rows });
          if (lowest === null || duckWatermark < lowest) lowest = duckWatermark;
        }
        if (recreated || !states.has('_views')) {
          await client.query(viewsDdl(schema, this.#options.timeZone, present));
          await this.#saveState(client, '_views', 0n, 'v1', null);
        }
        await this.#publishKpis(client);
        const warnings: string[] = [];
        await this.#grantSellers(client, present, warnings);
        this.#warnings = warnings;
        await client.query('COMMIT');
        this.#watermark = lowest;
        return { relations, watermark: lowest };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    } finally {
      await duck.run('COMMIT').catch(() => undefined);
    }
  }

  async #publishModel(
    client: pg.Client,
    model: ModelDefinition,
    columns: readonly MartColumn[],
    duckWatermark: bigint,
    state: PublishedState | undefined,
  ): Promise<{ mode: 'full' | 'incremental' | 'skipped'; rows: number; recreated: boolean }> {
    const target = `${quoteIdent(this.#options.schema)}.${quoteIdent(model.name)}`;
    const signature = JSON.stringify([columns.map((c) => [c.name, c.pgType]), model.uniqueKey]);
    const select = columns.map((column) => column.select).join(', ');
    const columnList = columns.map((column) => quoteIdent(column.name)).join(', ');
    const recreate = !state || state.signature !== signature;
    if (recreate) {
      await client.query(
        createTableDdl(this.#options.schema, model.name, columns, model.uniqueKey, model.description),
      );
    }
    const sequenced = columns.some((column) => column.name === '_updated_seq');
    if (!sequenced) {
      // A view without a change sequence (a small lookup): replaced whole when its content changes.
      const fingerprint = String(
        (
          await queryRows(
            this.#duck,
            `SELECT count(*)::VARCHAR || ':' || coalesce(sum(hash(m))::VARCHAR, '') AS f FROM ${model.name} m`,
          )
        )[0]?.f,
      );
      if (!recreate && state?.fingerprint === fingerprint)
        return { mode: 'skipped', rows: 0, recreated: recreate };
      await client.query(`TRUNCATE ${target}`);
      const rows = await this.#copy(client, `SELECT ${select} FROM ${model.name}`, {}, target, columnList);
      await this.#saveState(client, model.name, duckWatermark, signature, fingerprint);
      return { mode: 'full', rows, recreated: recreate };
    }
    if (!recreate && state && state.watermark === duckWatermark)
      return { mode: 'skipped', rows: 0, recreated: recreate };
    const since = recreate || !state || state.watermark > duckWatermark ? -1n : state.watermark;
    const counts = (
      await queryRows(
        this.#duck,
        `SELECT count(*)::VARCHAR AS total, count(*) FILTER (WHERE _updated_seq > $since::BIGINT)::VARCHAR AS changed FROM ${model.name}`,
        { since: since.toString() },
      )
    )[0];
    const total = Number(counts?.total ?? 0);
    const changed = Number(counts?.changed ?? 0);
    let mode: 'full' | 'incremental';
    let rows: number;
    if (since < 0n || changed === total) {
      // First load, or the model was rebuilt from scratch (every row rewritten): replace the table.
      if (!recreate) await client.query(`TRUNCATE ${target}`);
      rows = await this.#copy(client, `SELECT ${select} FROM ${model.name}`, {}, target, columnList);
      mode = 'full';
    } else if (changed === 0) {
      rows = 0;
      mode = 'incremental';
    } else if (model.uniqueKey.length === 0) {
      rows = await this.#copy(
        client,
        `SELECT ${select} FROM ${model.name} WHERE _updated_seq > $since::BIGINT`,
        { since: since.toString() },
        target,
        columnList,
      );
      mode = 'incremental';
    } else {
      // The runner replaced every row of each changed key: do the same (restated rows included).
      await client.query(`CREATE TEMP TABLE ${STAGE} (LIKE ${target}) ON COMMIT DROP`);
      rows = await this.#copy(
        client,
        `SELECT ${select} FROM ${model.name} WHERE _updated_seq > $since::BIGINT`,
        { since: since.toString() },
        STAGE,
        columnList,
      );
      const keys = model.uniqueKey.map(quoteIdent);
      const match = keys.map((key) => `t.${key} = d.${key}`).join(' AND ');
      await client.query(
        `DELETE FROM ${target} t USING (SELECT DISTINCT ${keys.join(', ')} FROM ${STAGE}) d WHERE ${match}`,
      );
      await client.query(`INSERT INTO ${target} (${columnList}) SELECT ${columnList} FROM ${STAGE}`);
      await client.query(`DROP TABLE ${STAGE}`);
      mode = 'incremental';
    }
    await this.#saveState(client, model.name, duckWatermark, signature, null);
    return { mode, rows, recreated: recreate };
  }

  /** Streams a DuckDB query into COPY FROM STDIN, chunk by chunk, respecting backpressure. */
  async #copy(
    client: pg.Client,
    sql: string,
    params: Record<string, string>,
    target: string,
    columnList: string,
  ): Promise<number> {
    const result = await this.#duck.stream(sql, params);
    const copy = client.query(pgCopy.from(`COPY ${target} (${columnList}) FROM STDIN`));
    const done = finished(copy);
    done.catch(() => undefined);
    let rows = 0;
    try {
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        let text = '';
        for (const row of chunk.getRows()) text += copyLine(row);
        rows += chunk.rowCount;
        if (!copy.write(text))
          await Promise.race([new Promise((resolve) => copy.once('drain', resolve)), done]);
      }
    } catch (error) {
      copy.destroy(error as Error);
      throw error;
    }
    copy.end();
    await done;
    return rows;
  }

  async #columns(relation: string): Promise<MartColumn[]> {
    const rows = await queryRows(
      this.#duck,
      `SELECT column_name, data_type FROM information_schema.columns
       WHERE table_schema = 'main' AND table_catalog = current_database() AND table_name = $name
       ORDER BY ordinal_position`,
      { name: relation },
    );
    return rows.map((row) => martColumn(String(row.column_name), String(row.data_type)));
  }

  async #publishedStates(client: pg.Client): Promise<Map<string, PublishedState>> {
    const result = await client.query<{
      relation: string;
      watermark: string;
      signature: string;
      fingerprint: string | null;
    }>(
      `SELECT relation, watermark::text, signature, fingerprint FROM ${quoteIdent(this.#options.schema)}._pulse_publish_state`,
    );
    return new Map(
      result.rows.map((row) => [
        row.relation,
        { watermark: BigInt(row.watermark), signature: row.signature, fingerprint: row.fingerprint },
      ]),
    );
  }

  async #saveState(
    client: pg.Client,
    relation: string,
    watermark: bigint,
    signature: string,
    fingerprint: string | null,
  ): Promise<void> {
    await client.query(
      `INSERT INTO ${quoteIdent(this.#options.schema)}._pulse_publish_state VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (relation) DO UPDATE SET watermark = EXCLUDED.watermark, signature = EXCLUDED.signature,
         fingerprint = EXCLUDED.fingerprint, published_at = EXCLUDED.published_at`,
      [relation, watermark.toString(), signature, fingerprint],
    );
  }

  /** The live KPI values replace the previous ones; totals whose numbers changed are appended to the history. */
  async #publishKpis(client: pg.Client): Promise<void> {
    const live = this.#live;
    if (!live) return;
    const s = quoteIdent(this.#options.schema);
    const lines: string[] = [];
    for (const value of live.values()) {
      const answer = value.answer;
      const common = [
        answer.id,
        answer.label,
        answer.unit,
        value.window,
        answer.window.from,
        answer.window.to,
      ];
      const tail = [answer.as_of, answer.definition_version, 'now'];
      if (value.by === null) {
        lines.push(
          copyLine([
            ...common,
            null,
            null,
            answer.value,
            answer.numerator,
            answer.denominator,
            answer.revenue_share ?? null,
            ...tail,
          ]),
        );
      } else {
        for (const point of answer.breakdown ?? []) {
          lines.push(
            copyLine([
              ...common,
              value.by,
              point.key ?? null,
              point.value,
              point.numerator,
              point.denominator,
              null,
              ...tail,
            ]),
          );
        }
      }
    }
    await client.query(`DELETE FROM ${s}.kpi_value`);
    const copy = client.query(pgCopy.from(`COPY ${s}.kpi_value FROM STDIN`));
    const done = finished(copy);
    copy.end(lines.join(''));
    await done;
    await client.query(
      `INSERT INTO ${s}.kpi_history
       SELECT v.kpi_id, v.window_name, v.window_from, v.window_to, v.value, v.numerator, v.denominator, v.as_of, v.published_at
       FROM ${s}.kpi_value v
       WHERE v.dimension IS NULL AND NOT EXISTS (
         SELECT 1 FROM (
           SELECT DISTINCT ON (kpi_id, window_name) * FROM ${s}.kpi_history h
           WHERE h.kpi_id = v.kpi_id AND h.window_name = v.window_name ORDER BY kpi_id, window_name, published_at DESC
         ) last
         WHERE last.value IS NOT DISTINCT FROM v.value AND last.as_of IS NOT DISTINCT FROM v.as_of
           AND last.window_from = v.window_from)`,
    );
  }

  /** Seller roles may read the tables that carry seller_id (and the daily view); RLS keeps them to their rows. */
  async #grantSellers(client: pg.Client, present: ReadonlySet<string>, warnings: string[]): Promise<void> {
    const roles = Object.entries(this.#options.sellerRoles ?? {});
    if (roles.length === 0) return;
    const s = quoteIdent(this.#options.schema);
    const sellerTables = (
      await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'seller_id'`,
        [this.#options.schema],
      )
    ).rows
      .map((row) => row.table_name)
      .filter((name) => present.has(name) || name === 'v_net_revenue_daily');
    for (const [role, sellerId] of roles) {
      await client.query(
        `INSERT INTO ${s}.seller_role VALUES ($1, $2) ON CONFLICT (role_name) DO UPDATE SET seller_id = EXCLUDED.seller_id`,
        [role, sellerId],
      );
      const grants = [`GRANT USAGE ON SCHEMA ${s} TO ${quoteIdent(role)}`];
      for (const table of sellerTables)
        grants.push(`GRANT SELECT ON ${s}.${quoteIdent(table)} TO ${quoteIdent(role)}`);
      // A role that does not exist (yet) is reported, and must not stop the marts being published.
      await client.query('SAVEPOINT seller_grant');
      try {
        await client.query(grants.join(';\n'));
        await client.query('RELEASE SAVEPOINT seller_grant');
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT seller_grant');
        warnings.push(`seller role ${role}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
