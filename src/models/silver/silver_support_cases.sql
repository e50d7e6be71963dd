-- materialized: incremental
-- order_by: resolved_at
-- description: Every support_case.resolved event, typed.
SELECT
  d.case_id::VARCHAR                      AS case_id,
  d.order_id::VARCHAR                     AS order_id,
  d.channel::VARCHAR                      AS channel,
  d.opened_at::TIMESTAMPTZ                AS opened_at,
  d.resolved_at::TIMESTAMPTZ              AS resolved_at,
  d.csat::INTEGER                         AS csat,
  d.sentiment::DOUBLE                     AS sentiment,
  b.event_id,
  b.ingest_seq                            AS _seq,
  b.ingested_at                           AS _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT *, from_json(data, '{"case_id":"VARCHAR","order_id":"VARCHAR","channel":"VARCHAR","opened_at":"VARCHAR","resolved_at":"VARCHAR","csat":"VARCHAR","sentiment":"VARCHAR"}') AS d
  FROM {{ source('bronze_events') }}
  WHERE event_type = 'support_case.resolved'
  {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
) b
