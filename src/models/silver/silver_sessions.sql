-- materialized: incremental
-- order_by: started_at
-- description: Every session.started event, typed; the visitor is known by its customer token when signed in.
SELECT
  d.session_id::VARCHAR                   AS session_id,
  d.started_at::TIMESTAMPTZ               AS started_at,
  d.channel::VARCHAR                      AS channel,
  d.customer_token::VARCHAR               AS customer_token,
  d.device::VARCHAR                       AS device,
  d.landing_page::VARCHAR                 AS landing_page,
  b.event_id,
  b.ingest_seq                            AS _seq,
  b.ingested_at                           AS _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT *, from_json(data, '{"session_id":"VARCHAR","started_at":"VARCHAR","channel":"VARCHAR","customer_token":"VARCHAR","device":"VARCHAR","landing_page":"VARCHAR"}') AS d
  FROM {{ source('bronze_events') }}
  WHERE event_type = 'session.started'
  {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
) b
