-- materialized: incremental
-- order_by: effective_at
-- description: Every product.upserted event, typed: the change history the SCD2 product dimension is built from.
SELECT
  d.sku::VARCHAR                          AS sku,
  d.name::VARCHAR                         AS name,
  d.brand::VARCHAR                        AS brand,
  d.category::VARCHAR                     AS category,
  d.supplier_id::VARCHAR                  AS supplier_id,
  d.lead_time_days::INTEGER               AS lead_time_days,
  d.list_price::DECIMAL(18, 2)            AS list_price,
  d.currency::VARCHAR                     AS currency,
  d.sustainability_score::DOUBLE          AS sustainability_score,
  d.effective_at::TIMESTAMPTZ             AS effective_at,
  b.event_id,
  b.ingest_seq                            AS _seq,
  b.ingested_at                           AS _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT *, from_json(data, '{"sku":"VARCHAR","name":"VARCHAR","brand":"VARCHAR","category":"VARCHAR","supplier_id":"VARCHAR","lead_time_days":"VARCHAR","list_price":"VARCHAR","currency":"VARCHAR","sustainability_score":"VARCHAR","effective_at":"VARCHAR"}') AS d
  FROM {{ source('bronze_events') }}
  WHERE event_type = 'product.upserted'
  {% if incremental %} AND ingest_seq > {{ lo }} {% endif %}
) b
