-- materialized: incremental
-- order_by: effective_at
-- description: Every customer.upserted event, typed; the customer is known by its token only (PII never lands).
SELECT
  d.customer_token::VARCHAR               AS customer_token,
  d.loyalty_tier::VARCHAR                 AS loyalty_tier,
  d.segment::VARCHAR                      AS segment,
  d.country::VARCHAR                      AS country,
  d.consent.marketing::BOOLEAN            AS consent_marketing,
  d.consent.analytics::BOOLEAN            AS consent_analytics,
  d.effective_at::TIMESTAMPTZ             AS effective_at,
  b.event_id,
  b.ingest_seq                            AS _seq,
  b.ingested_at                           AS _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT *, from_json(data, '{"customer_token":"VARCHAR","loyalty_tier":"VARCHAR","segment":"VARCHAR","country":"VARCHAR","consent":{"marketing":"BOOLEAN","analytics":"BOOLEAN"},"effective_at":"VARCHAR"}') AS d
  FROM {{ source('bronze_events') }}
  WHERE event_type = 'customer.upserted'
  {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
) b
