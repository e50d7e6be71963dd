-- materialized: incremental
-- order_by: changed_at
-- description: Every order.status_changed event, typed; the latest by changed_at is the order's status.
SELECT
  d.order_id::VARCHAR                     AS order_id,
  d.status::VARCHAR                       AS status,
  d.changed_at::TIMESTAMPTZ               AS changed_at,
  b.event_id,
  b.ingest_seq                            AS _seq,
  b.ingested_at                           AS _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT *, from_json(data, '{"order_id":"VARCHAR","status":"VARCHAR","changed_at":"VARCHAR"}') AS d
  FROM {{ source('bronze_events') }}
  WHERE event_type = 'order.status_changed'
  {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
) b
