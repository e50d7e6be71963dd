-- materialized: incremental
-- order_by: dispatched_at
-- description: Every shipment.dispatched event, typed: one parcel leaving a warehouse with its delivery promise.
SELECT
  d.shipment_id::VARCHAR                  AS shipment_id,
  d.order_id::VARCHAR                     AS order_id,
  d.carrier::VARCHAR                      AS carrier,
  d.dispatched_at::TIMESTAMPTZ            AS dispatched_at,
  d.promised_delivery_at::TIMESTAMPTZ     AS promised_delivery_at,
  b.event_id,
  b.ingest_seq                            AS _seq,
  b.ingested_at                           AS _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT *, from_json(data, '{"shipment_id":"VARCHAR","order_id":"VARCHAR","carrier":"VARCHAR","dispatched_at":"VARCHAR","promised_delivery_at":"VARCHAR"}') AS d
  FROM {{ source('bronze_events') }}
  WHERE event_type = 'shipment.dispatched'
  {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
) b
