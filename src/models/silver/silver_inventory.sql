-- materialized: incremental
-- order_by: as_of
-- description: Every inventory.snapshot event, typed: stock of one SKU in one warehouse at one moment.
SELECT
  d.sku::VARCHAR                          AS sku,
  d.warehouse::VARCHAR                    AS warehouse,
  d.as_of::TIMESTAMPTZ                    AS as_of,
  d.on_hand::INTEGER                      AS on_hand,
  d.available_to_promise::INTEGER         AS available_to_promise,
  b.event_id,
  b.ingest_seq                            AS _seq,
  b.ingested_at                           AS _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT *, from_json(data, '{"sku":"VARCHAR","warehouse":"VARCHAR","as_of":"VARCHAR","on_hand":"VARCHAR","available_to_promise":"VARCHAR"}') AS d
  FROM {{ source('bronze_events') }}
  WHERE event_type = 'inventory.snapshot'
  {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
) b
