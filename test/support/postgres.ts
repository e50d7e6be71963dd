import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_HOST = process.env.PULSE_TEST_PG_HOST ?? '127.0.0.1';
export const PG_PORT = Number(process.env.PULSE_TEST_PG_PORT ?? 5432);
const ADMIN_URL = `postgres://postgres@${PG_HOST}:${PG_PORT}/test`;

/** Whether the test PostgreSQL answers; under CI a missing server fails the test instead of skipping it. */
export async function postgresAvailable(): Promise<true | string> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    const reason = `PostgreSQL not reachable at ${PG_HOST}:${PG_PORT}: ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(reason);
    return reason;
  }
}

/** A fresh database (and its roles) for one test run, dropped with everything in it afterwards. */
export interface TestDatabase {
  readonly name: string;
  url(port?: number, user?: string): string;
  /** A LOGIN role created for this run (dropped with the database). */
  createRole(prefix: string): Promise<string>;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a query connected as another role. */
  queryAs<T extends pg.QueryResultRow = Record<string, unknown>>(role: string, sql: string): Promise<T[]>;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = (port = PG_PORT, user = 'postgres') => `postgres://${user}@${PG_HOST}:${port}/${name}`;
  const client = new pg.Client({ connectionString: url() });
  await client.connect();
  const roles: string[] = [];
  return {
    name,
    url,
    async createRole(rolePrefix: string) {
      const role = `${rolePrefix}_${randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      roles.push(role);
      return role;
    },
    async query(sql, params) {
      return (await client.query(sql, params)).rows;
    },
    async queryAs(role, sql) {
      const other = new pg.Client({ connectionString: url(PG_PORT, role) });
      await other.connect();
      try {
        return (await other.query(sql)).rows;
      } finally {
        await other.end();
      }
    },
    async drop() {
      await client.end().catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      for (const role of roles) await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    },
  };
}
