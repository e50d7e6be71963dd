-- materialized: incremental
-- order_by: placed_at
-- description: One row per order.placed event: the order header, typed.
SELECT
  d.order_id::VARCHAR                     AS order_id,
  d.placed_at::TIMESTAMPTZ                AS placed_at,
  d.customer_token::VARCHAR               AS customer_token,
  d.channel::VARCHAR                      AS channel,
  d.brand::VARCHAR                        AS brand,
  d.country::VARCHAR                      AS country,
  d.currency::VARCHAR                     AS currency,
  d.seller_id::VARCHAR                    AS seller_id,
  d.session_id::VARCHAR                   AS session_id,
  d.promised_delivery_at::TIMESTAMPTZ     AS promised_delivery_at,
  b.event_id,
  b.ingest_seq                            AS _seq,
  b.ingested_at                           AS _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT *, from_json(data, '{"order_id":"VARCHAR","placed_at":"VARCHAR","customer_token":"VARCHAR","channel":"VARCHAR","brand":"VARCHAR","country":"VARCHAR","currency":"VARCHAR","seller_id":"VARCHAR","session_id":"VARCHAR","promised_delivery_at":"VARCHAR"}') AS d
  FROM {{ source('bronze_events') }}
  WHERE event_type = 'order.placed'
  {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
) b
