-- materialized: incremental
-- order_by: started_at
-- description: One row per web or app session started (the denominator of conversion). Append-only: sessions are never restated.
SELECT session_id, channel, customer_token, device, landing_page, started_at, _ingested_at, {{ hi }}::BIGINT AS _updated_seq
FROM {{ ref('silver_sessions') }}
{% if incremental %} WHERE _updated_seq > {{ lo }} {% endif %}
