-- materialized: incremental
-- unique_key: event_id
-- order_by: refunded_at
-- description: One row per return.refunded event, the amount exact in its currency and in EUR at the rate of the hour of refunded_at (or the latest earlier hour); converted again when a rate for its hour arrives late.
WITH typed AS (
  SELECT
    b.d.return_id::VARCHAR                 AS return_id,
    b.d.order_id::VARCHAR                  AS order_id,
    b.d.refunded_at::TIMESTAMPTZ           AS refunded_at,
    b.d.amount::DECIMAL(18, 2)             AS amount,
    b.d.currency::VARCHAR                  AS currency,
    b.event_id,
    b.ingest_seq                           AS _seq,
    b.ingested_at                          AS _ingested_at
  FROM (
    SELECT *, from_json(data, '{"return_id":"VARCHAR","order_id":"VARCHAR","refunded_at":"VARCHAR","amount":"VARCHAR","currency":"VARCHAR"}') AS d
    FROM {{ source('bronze_events') }}
    WHERE event_type = 'return.refunded'
    {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
  ) b
  {% if incremental %}
  UNION ALL
  SELECT s.return_id, s.order_id, s.refunded_at, s.amount, s.currency, s.event_id, s._seq, s._ingested_at
  FROM {{ this }} s
  -- A join, not EXISTS: when no rate changed (most runs) the empty side ends it before this table is read.
  JOIN (
    SELECT currency, min(hour) AS since FROM {{ ref('silver_fx_rates') }}
    WHERE _updated_seq > {{ lo }} GROUP BY currency
  ) f ON f.currency = s.currency AND s.refunded_at >= f.since
  WHERE s._seq <= {{ lo }}
  {% endif %}
)
SELECT
  typed.return_id, typed.order_id, typed.refunded_at, typed.amount, typed.currency,
  CASE WHEN typed.currency = 'EUR' THEN 1 ELSE fx.rate_to_eur END::DECIMAL(18, 10)  AS rate_to_eur,
  (typed.amount::DECIMAL(38, 2) * CASE WHEN typed.currency = 'EUR' THEN 1 ELSE fx.rate_to_eur END::DECIMAL(38, 10))::DECIMAL(38, 12) AS amount_eur,
  typed.event_id, typed._seq, typed._ingested_at,
  {{ hi }}::BIGINT AS _updated_seq
FROM typed
ASOF LEFT JOIN {{ ref('silver_fx_rates') }} fx
  ON fx.currency = typed.currency AND typed.refunded_at >= fx.hour
