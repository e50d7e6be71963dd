-- materialized: incremental
-- unique_key: event_id
-- order_by: refunded_at
-- description: One row per refund processed, in its currency and in EUR, with its order's channel, brand, country and seller (a refund counts against its order).
WITH
{% if incremental %}
changed AS (
  SELECT event_id FROM {{ ref('silver_refunds') }} WHERE _updated_seq > {{ lo }}
  UNION SELECT r.event_id FROM {{ ref('silver_refunds') }} r
        JOIN {{ ref('silver_orders') }} o ON o.order_id = r.order_id WHERE o._updated_seq > {{ lo }}
),
{% endif %}
refunds AS (
  SELECT * FROM {{ ref('silver_refunds') }}
  {% if incremental %} WHERE event_id IN (SELECT event_id FROM changed) {% endif %}
),
-- Only the orders this run joins: deduplicating all of them grew with the history at every refresh.
orders AS (
  SELECT * FROM {{ ref('silver_orders') }}
  WHERE order_id IN (SELECT order_id FROM refunds)
  QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _seq) = 1
)
SELECT
  r.event_id, r.return_id, r.order_id, r.refunded_at, r.amount, r.currency, r.rate_to_eur, r.amount_eur,
  o.channel, o.brand, o.country, o.seller_id,
  r._ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM refunds r
LEFT JOIN orders o ON o.order_id = r.order_id
