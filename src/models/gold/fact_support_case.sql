-- materialized: incremental
-- unique_key: case_id
-- order_by: resolved_at
-- description: One row per resolved support case with its CSAT and sentiment, and the brand and country of its order when it has one.
WITH
{% if incremental %}
changed AS (
  SELECT case_id FROM {{ ref('silver_support_cases') }} WHERE _updated_seq > {{ lo }}
  UNION SELECT c.case_id FROM {{ ref('silver_support_cases') }} c
        JOIN {{ ref('silver_orders') }} o ON o.order_id = c.order_id WHERE o._updated_seq > {{ lo }}
),
{% endif %}
cases AS (
  SELECT * FROM {{ ref('silver_support_cases') }}
  {% if incremental %} WHERE case_id IN (SELECT case_id FROM changed) {% endif %}
  QUALIFY row_number() OVER (PARTITION BY case_id ORDER BY _seq DESC) = 1
),
-- Only the orders this run joins: deduplicating all of them grew with the history at every refresh.
orders AS (
  SELECT * FROM {{ ref('silver_orders') }}
  WHERE order_id IN (SELECT order_id FROM cases)
  QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _seq) = 1
)
SELECT
  c.case_id, c.order_id, c.channel, c.csat, c.sentiment, c.opened_at, c.resolved_at,
  o.channel AS order_channel, o.brand, o.country, o.seller_id,
  c._ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM cases c
LEFT JOIN orders o ON o.order_id = c.order_id
