import { quoteIdent, type MartColumn } from './columns.js';

/** The publisher's own bookkeeping in the mart schema: one watermark per published relation. */
export function stateTableDdl(schema: string): string {
  const s = quoteIdent(schema);
  return `
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE TABLE IF NOT EXISTS ${s}._pulse_publish_state (
      relation     text PRIMARY KEY,
      watermark    bigint NOT NULL,
      signature    text NOT NULL,
      fingerprint  text,
      published_at timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${s}.seller_role (
      role_name text PRIMARY KEY,
      seller_id text NOT NULL
    );
    -- Runs as its owner so that seller roles need no access to the mapping; the caller's role is
    -- passed in, because current_user inside a SECURITY DEFINER function is the owner.
    CREATE OR REPLACE FUNCTION ${s}.seller_of(role_name name) RETURNS text
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
      AS $$ SELECT seller_id FROM ${s}.seller_role WHERE role_name = $1 $$;
    CREATE TABLE IF NOT EXISTS ${s}.kpi_value (
      kpi_id             text NOT NULL,
      label              text NOT NULL,
      unit               text NOT NULL,
      window_name        text NOT NULL,
      window_from        timestamptz NOT NULL,
      window_to          timestamptz NOT NULL,
      dimension          text,
      dim_key            text,
      value              numeric,
      numerator          numeric,
      denominator        numeric,
      revenue_share      numeric,
      as_of              timestamptz,
      definition_version integer NOT NULL,
      published_at       timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${s}.kpi_history (
      kpi_id       text NOT NULL,
      window_name  text NOT NULL,
      window_from  timestamptz NOT NULL,
      window_to    timestamptz NOT NULL,
      value        numeric,
      numerator    numeric,
      denominator  numeric,
      as_of        timestamptz,
      published_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS kpi_history_kpi_published ON ${s}.kpi_history (kpi_id, published_at);
  `;
}

export function createTableDdl(
  schema: string,
  table: string,
  columns: readonly MartColumn[],
  uniqueKey: readonly string[],
  description: string,
): string {
  const target = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const body = columns.map((column) => `${quoteIdent(column.name)} ${column.pgType}`).join(',\n  ');
  const statements = [
    `DROP TABLE IF EXISTS ${target} CASCADE`,
    `CREATE TABLE ${target} (\n  ${body}\n)`,
    `COMMENT ON TABLE ${target} IS ${literal(`${description} Published from the Pulse gold model ${table}.`)}`,
  ];
  if (uniqueKey.length > 0) {
    statements.push(
      `CREATE INDEX ${quoteIdent(`${table}_key`)} ON ${target} (${uniqueKey.map(quoteIdent).join(', ')})`,
    );
  }
  if (columns.some((column) => column.name === '_updated_seq')) {
    statements.push(
      `COMMENT ON COLUMN ${target}."_updated_seq" IS 'Pulse ingest sequence of the refresh that last wrote this row'`,
    );
  }
  if (columns.some((column) => column.name === 'seller_id')) {
    // Seller roles see only their rows; every other role sees what its GRANTs allow.
    statements.push(
      `ALTER TABLE ${target} ENABLE ROW LEVEL SECURITY`,
      `CREATE POLICY seller_rows ON ${target} FOR SELECT USING (
         ${quoteIdent(schema)}.seller_of(current_user) IS NULL
         OR seller_id = ${quoteIdent(schema)}.seller_of(current_user))`,
    );
  }
  return statements.join(';\n');
}

/** Views for BI tools, documented column by column. `security_invoker` keeps row-level security in force. */
export function viewsDdl(schema: string, timeZone: string, tables: ReadonlySet<string>): string {
  const s = quoteIdent(schema);
  const tz = literal(timeZone);
  const statements = [
    `CREATE OR REPLACE VIEW ${s}.v_kpi_current WITH (security_invoker = true) AS
       SELECT kpi_id, label, unit, window_name, window_from, window_to, value, numerator, denominator,
              revenue_share, as_of, definition_version, published_at
       FROM ${s}.kpi_value WHERE dimension IS NULL`,
    `CREATE OR REPLACE VIEW ${s}.v_kpi_breakdown WITH (security_invoker = true) AS
       SELECT kpi_id, label, unit, window_name, window_from, window_to, dimension, dim_key, value,
              numerator, denominator, as_of, published_at
       FROM ${s}.kpi_value WHERE dimension IS NOT NULL`,
    ...comments(
      `${s}.v_kpi_current`,
      'Every governed KPI now, one row per KPI and named window (today, 1h, 24h).',
      {
        kpi_id: 'KPI id from the Pulse catalogue (net_revenue, conversion_rate, …)',
        label: 'Human-readable KPI name',
        unit: 'EUR for money, ratio (0–1), index (0–100) or count',
        window_name: 'today (business day in the configured time zone), 1h or 24h',
        window_from: 'Start of the window, inclusive',
        window_to: 'End of the window, exclusive',
        value:
          'The KPI value: exact EUR for money, a ratio or index otherwise; NULL when undefined (no denominator)',
        numerator: 'Numerator of a ratio KPI, or the amount of a money KPI',
        denominator: 'Denominator of a ratio KPI',
        revenue_share: 'Inventory Risk only: share of forecast revenue at risk',
        as_of: 'Business time of the newest event included',
        definition_version: 'Version of the KPI definition in the catalogue',
        published_at: 'When Pulse wrote this value to the mart',
      },
    ),
    ...comments(`${s}.v_kpi_breakdown`, 'Every KPI broken down by each of its dimensions.', {
      dimension: 'channel, brand, country, seller or category',
      dim_key: 'The dimension value (NULL: rows without one)',
    }),
  ];
  if (tables.has('fact_order') && tables.has('fact_refund')) {
    statements.push(
      `CREATE OR REPLACE VIEW ${s}.v_net_revenue_daily WITH (security_invoker = true) AS
       WITH parts AS (
         SELECT (placed_at AT TIME ZONE ${tz})::date AS business_date, channel, brand, country, seller_id,
                net_eur AS lines_net_eur, 0::numeric AS refunds_eur
         FROM ${s}.fact_order WHERE status <> 'cancelled' AND net_eur IS NOT NULL
         UNION ALL
         SELECT (refunded_at AT TIME ZONE ${tz})::date, channel, brand, country, seller_id, 0, amount_eur
         FROM ${s}.fact_refund WHERE amount_eur IS NOT NULL
       )
       SELECT business_date, channel, brand, country, seller_id,
              round(sum(lines_net_eur), 2) AS lines_net_eur,
              round(sum(refunds_eur), 2) AS refunds_eur,
              round(sum(lines_net_eur) - sum(refunds_eur), 2) AS net_revenue_eur
       FROM parts GROUP BY business_date, channel, brand, country, seller_id`,
      ...comments(
        `${s}.v_net_revenue_daily`,
        `Net Revenue per business day (${timeZone}) and channel, brand, country and seller: order lines placed that day, not cancelled, minus refunds processed that day, in EUR.`,
        {
          business_date: `Business day in ${timeZone}`,
          channel: 'Sales channel of the order (web, mobile, store, marketplace, partner)',
          brand: 'Brand of the order',
          country: 'Country of the order (ISO 3166-1 alpha-2)',
          seller_id: 'Marketplace seller (NULL: first-party); a seller role sees only its own',
          lines_net_eur:
            'Σ(gross − discount − tax) in EUR of lines placed that day, cancelled orders excluded',
          refunds_eur: 'Σ refunds in EUR processed that day',
          net_revenue_eur: 'lines_net_eur − refunds_eur, rounded to cents once',
        },
      ),
    );
  }
  return statements.join(';\n');
}

function comments(relation: string, description: string, columns: Record<string, string>): string[] {
  return [
    `COMMENT ON VIEW ${relation} IS ${literal(description)}`,
    ...Object.entries(columns).map(
      ([column, text]) => `COMMENT ON COLUMN ${relation}.${quoteIdent(column)} IS ${literal(text)}`,
    ),
  ];
}

export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
