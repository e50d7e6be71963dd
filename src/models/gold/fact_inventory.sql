-- materialized: incremental
-- order_by: as_of
-- description: One row per SKU × warehouse × snapshot: stock on hand and available to promise.
SELECT sku, warehouse, as_of, on_hand, available_to_promise, _ingested_at, {{ hi }}::BIGINT AS _updated_seq
FROM {{ ref('silver_inventory') }}
{% if incremental %} WHERE _updated_seq > {{ lo }} {% endif %}
