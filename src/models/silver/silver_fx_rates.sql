-- materialized: incremental
-- unique_key: currency, hour
-- order_by: hour
-- description: Hourly FX rates to EUR, one row per currency and hour; a later event for the same hour corrects it.
SELECT currency, hour, rate_to_eur, event_id, _seq, _ingested_at, {{ hi }}::BIGINT AS _updated_seq
FROM (
  SELECT
    d.currency::VARCHAR                 AS currency,
    d.hour::TIMESTAMPTZ                 AS hour,
    d.rate_to_eur::DECIMAL(18, 10)      AS rate_to_eur,
    b.event_id,
    b.ingest_seq                        AS _seq,
    b.ingested_at                       AS _ingested_at
  FROM (
    SELECT *, from_json(data, '{"currency":"VARCHAR","hour":"VARCHAR","rate_to_eur":"VARCHAR"}') AS d
    FROM {{ source('bronze_events') }}
    WHERE event_type = 'fx.rate'
    {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
  ) b
)
QUALIFY row_number() OVER (PARTITION BY currency, hour ORDER BY _seq DESC) = 1
