-- materialized: incremental
-- order_by: effective_at
-- description: Every channel.upserted event, typed.
SELECT
  d.channel::VARCHAR                      AS channel,
  d.name::VARCHAR                         AS name,
  d.type::VARCHAR                         AS type,
  d.effective_at::TIMESTAMPTZ             AS effective_at,
  b.event_id,
  b.ingest_seq                            AS _seq,
  b.ingested_at                           AS _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT *, from_json(data, '{"channel":"VARCHAR","name":"VARCHAR","type":"VARCHAR","effective_at":"VARCHAR"}') AS d
  FROM {{ source('bronze_events') }}
  WHERE event_type = 'channel.upserted'
  {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
) b
