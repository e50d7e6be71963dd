-- materialized: incremental
-- unique_key: sku
-- order_by: valid_from
-- description: The product dimension, SCD2: one row per version of a SKU, valid from its effective_at until the next version's.
SELECT
  sku,
  row_number() OVER w                     AS version,
  name, brand, category, supplier_id, lead_time_days, list_price, currency, sustainability_score,
  effective_at                            AS valid_from,
  lead(effective_at) OVER w               AS valid_to,
  lead(effective_at) OVER w IS NULL       AS is_current,
  _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT * FROM {{ ref('silver_products') }}
  {% if incremental %}
  WHERE sku IN (SELECT sku FROM {{ ref('silver_products') }} WHERE _updated_seq > {{ lo }})
  {% endif %}
  QUALIFY row_number() OVER (PARTITION BY sku, effective_at ORDER BY _seq DESC) = 1
)
WINDOW w AS (PARTITION BY sku ORDER BY effective_at)
