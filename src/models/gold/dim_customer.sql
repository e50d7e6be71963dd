-- materialized: incremental
-- unique_key: customer_token
-- order_by: valid_from
-- description: The customer dimension, SCD2, keyed by the customer token: loyalty tier, segment and consent as they were at any moment.
SELECT
  customer_token,
  row_number() OVER w                     AS version,
  loyalty_tier, segment, country, consent_marketing, consent_analytics,
  effective_at                            AS valid_from,
  lead(effective_at) OVER w               AS valid_to,
  lead(effective_at) OVER w IS NULL       AS is_current,
  _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT * FROM {{ ref('silver_customers') }}
  {% if incremental %}
  WHERE customer_token IN (SELECT customer_token FROM {{ ref('silver_customers') }} WHERE _updated_seq > {{ lo }})
  {% endif %}
  QUALIFY row_number() OVER (PARTITION BY customer_token, effective_at ORDER BY _seq DESC) = 1
)
WINDOW w AS (PARTITION BY customer_token ORDER BY effective_at)
