-- materialized: incremental
-- unique_key: return_id
-- order_by: initiated_at
-- description: One row per returned line, with the SKU, category and order attributes of the line returned, and the refund of its return (EUR).
WITH
{% if incremental %}
changed AS (
  SELECT return_id FROM {{ ref('silver_return_lines') }} WHERE _updated_seq > {{ lo }}
  UNION SELECT return_id FROM {{ ref('silver_refunds') }} WHERE _updated_seq > {{ lo }}
  UNION SELECT r.return_id FROM {{ ref('silver_return_lines') }} r
        JOIN {{ ref('fact_order') }} f ON f.order_id = r.order_id WHERE f._updated_seq > {{ lo }}
),
{% endif %}
returned AS (
  SELECT * FROM {{ ref('silver_return_lines') }}
  {% if incremental %} WHERE return_id IN (SELECT return_id FROM changed) {% endif %}
),
refunds AS (
  SELECT return_id, max(refunded_at) AS refunded_at, sum(amount_eur) AS refund_amount_eur
  FROM {{ ref('silver_refunds') }}
  {% if incremental %} WHERE return_id IN (SELECT return_id FROM changed) {% endif %}
  GROUP BY return_id
),
-- Only the lines of the orders returned: a join to the whole fact_order built a hash table of it.
order_lines AS (
  SELECT * FROM {{ ref('fact_order') }}
  WHERE order_id IN (SELECT order_id FROM returned)
)
SELECT
  r.return_id, r.order_id, r.line_no, r.quantity, r.reason, r.initiated_at,
  f.sku, f.category, f.channel, f.brand, f.country, f.seller_id,
  rf.refunded_at, rf.refund_amount_eur,
  r._ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM returned r
LEFT JOIN order_lines f ON f.order_id = r.order_id AND f.line_no = r.line_no
LEFT JOIN refunds rf ON rf.return_id = r.return_id
