-- materialized: incremental
-- unique_key: shipment_id
-- order_by: dispatched_at
-- description: One row per parcel: dispatch, promise and delivery, with the order's channel, brand, country and seller.
WITH
{% if incremental %}
changed AS (
  SELECT shipment_id FROM {{ ref('silver_shipments_dispatched') }} WHERE _updated_seq > {{ lo }}
  UNION SELECT shipment_id FROM {{ ref('silver_shipments_delivered') }} WHERE _updated_seq > {{ lo }}
  UNION SELECT d.shipment_id FROM {{ ref('silver_shipments_dispatched') }} d
        JOIN {{ ref('silver_orders') }} o ON o.order_id = d.order_id WHERE o._updated_seq > {{ lo }}
  UNION SELECT v.shipment_id FROM {{ ref('silver_shipments_delivered') }} v
        JOIN {{ ref('silver_orders') }} o ON o.order_id = v.order_id WHERE o._updated_seq > {{ lo }}
),
{% endif %}
dispatched AS (
  SELECT * FROM {{ ref('silver_shipments_dispatched') }}
  {% if incremental %} WHERE shipment_id IN (SELECT shipment_id FROM changed) {% endif %}
  QUALIFY row_number() OVER (PARTITION BY shipment_id ORDER BY _seq DESC) = 1
),
delivered AS (
  SELECT * FROM {{ ref('silver_shipments_delivered') }}
  {% if incremental %} WHERE shipment_id IN (SELECT shipment_id FROM changed) {% endif %}
  QUALIFY row_number() OVER (PARTITION BY shipment_id ORDER BY _seq DESC) = 1
),
-- Only the orders this run joins: deduplicating all of them grew with the history at every refresh.
orders AS (
  SELECT * FROM {{ ref('silver_orders') }}
  WHERE order_id IN (SELECT order_id FROM dispatched UNION ALL SELECT order_id FROM delivered)
  QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _seq) = 1
)
SELECT
  coalesce(d.shipment_id, v.shipment_id)  AS shipment_id,
  coalesce(d.order_id, v.order_id)        AS order_id,
  d.carrier,
  d.dispatched_at,
  d.promised_delivery_at,
  v.delivered_at,
  CASE WHEN v.delivered_at IS NOT NULL THEN 'delivered' ELSE 'dispatched' END AS status,
  v.delivered_at <= d.promised_delivery_at AS on_time,
  o.channel, o.brand, o.country, o.seller_id,
  greatest(d._ingested_at, v._ingested_at) AS _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM dispatched d
FULL OUTER JOIN delivered v ON v.shipment_id = d.shipment_id
LEFT JOIN orders o ON o.order_id = coalesce(d.order_id, v.order_id)
