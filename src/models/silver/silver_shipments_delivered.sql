-- materialized: incremental
-- order_by: delivered_at
-- description: Every shipment.delivered event, typed.
SELECT
  d.shipment_id::VARCHAR                  AS shipment_id,
  d.order_id::VARCHAR                     AS order_id,
  d.delivered_at::TIMESTAMPTZ             AS delivered_at,
  b.event_id,
  b.ingest_seq                            AS _seq,
  b.ingested_at                           AS _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT *, from_json(data, '{"shipment_id":"VARCHAR","order_id":"VARCHAR","delivered_at":"VARCHAR"}') AS d
  FROM {{ source('bronze_events') }}
  WHERE event_type = 'shipment.delivered'
  {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
) b
