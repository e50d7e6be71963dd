-- description: Shopify's standard order export (Orders → Export → CSV: one row per line item; the order's own fields only on its first row). Each order becomes one order.placed event; Paid at becomes order.status_changed paid; Cancelled at becomes order.status_changed cancelled (the order then leaves Net Revenue, so its refund is not counted again); a Refunded Amount on an order not cancelled becomes one return.refunded event, dated at the latest time the export gives for the order (Fulfilled at, Paid at or Created at: the export carries no refund date). The order's Discount Amount, and its Taxes when prices include tax (Total = Subtotal + Shipping), are spread over its lines in proportion to their gross, to the cent, the last line taking the remainder; when Total = Subtotal + Shipping + Taxes, prices exclude tax and the lines carry none. Email is the customer id (tokenised at the door), Billing Country (a code or a name) the country, Source the channel (pos → store, iphone/android → mobile, else web).
-- columns: Name, Email, Financial Status, Paid at, Currency, Subtotal, Shipping, Taxes, Total, Discount Amount, Created at, Lineitem quantity, Lineitem name, Lineitem price, Lineitem sku, Billing Country
-- optional: Fulfilled at, Cancelled at, Refunded Amount, Source, Vendor, Billing Name, Phone
WITH rows_ AS (
  SELECT
    _row,
    trim("Name"::VARCHAR) AS order_name,
    nullif(lower(trim("Email"::VARCHAR)), '') AS email,
    nullif(trim("Billing Name"::VARCHAR), '') AS billing_name,
    nullif(trim("Phone"::VARCHAR), '') AS phone,
    nullif(trim("Financial Status"::VARCHAR), '') AS financial_status,
    try_strptime(nullif(trim("Paid at"::VARCHAR), ''), '%Y-%m-%d %H:%M:%S %z') AS paid_at,
    try_strptime(nullif(trim("Fulfilled at"::VARCHAR), ''), '%Y-%m-%d %H:%M:%S %z') AS fulfilled_at,
    try_strptime(nullif(trim("Cancelled at"::VARCHAR), ''), '%Y-%m-%d %H:%M:%S %z') AS cancelled_at,
    try_strptime(nullif(trim("Created at"::VARCHAR), ''), '%Y-%m-%d %H:%M:%S %z') AS created_at,
    nullif(upper(trim("Currency"::VARCHAR)), '') AS currency,
    try_cast(nullif(trim("Subtotal"::VARCHAR), '') AS DECIMAL(18, 2)) AS subtotal,
    try_cast(nullif(trim("Shipping"::VARCHAR), '') AS DECIMAL(18, 2)) AS shipping,
    try_cast(nullif(trim("Taxes"::VARCHAR), '') AS DECIMAL(18, 2)) AS taxes,
    try_cast(nullif(trim("Total"::VARCHAR), '') AS DECIMAL(18, 2)) AS total,
    try_cast(nullif(trim("Discount Amount"::VARCHAR), '') AS DECIMAL(18, 2)) AS discount_amount,
    try_cast(nullif(trim("Refunded Amount"::VARCHAR), '') AS DECIMAL(18, 2)) AS refunded_amount,
    nullif(lower(trim("Source"::VARCHAR)), '') AS source_name,
    nullif(trim("Vendor"::VARCHAR), '') AS vendor,
    nullif(trim("Billing Country"::VARCHAR), '') AS country_name,
    trim("Lineitem quantity"::VARCHAR) AS quantity,
    trim("Lineitem price"::VARCHAR) AS unit_price,
    coalesce(nullif(trim("Lineitem sku"::VARCHAR), ''), nullif(trim("Lineitem name"::VARCHAR), '')) AS sku
  FROM source_rows
  WHERE nullif(trim("Name"::VARCHAR), '') IS NOT NULL
),
orders AS (
  SELECT
    min(_row) AS seq, order_name,
    any_value(email) AS email, any_value(billing_name) AS billing_name, any_value(phone) AS phone,
    any_value(paid_at) AS paid_at, any_value(fulfilled_at) AS fulfilled_at,
    any_value(cancelled_at) AS cancelled_at, any_value(created_at) AS created_at,
    any_value(currency) AS currency, any_value(subtotal) AS subtotal, any_value(shipping) AS shipping,
    any_value(taxes) AS taxes, any_value(total) AS total,
    coalesce(any_value(discount_amount), 0) AS discount_amount,
    any_value(refunded_amount) AS refunded_amount, any_value(source_name) AS source_name,
    any_value(vendor) AS vendor, any_value(country_name) AS country_name
  FROM rows_ GROUP BY order_name
),
priced AS (
  SELECT
    r._row, r.order_name, r.sku, r.quantity, r.unit_price,
    row_number() OVER w AS line_no,
    count(*) OVER (PARTITION BY r.order_name) AS line_count,
    coalesce(try_cast(r.quantity AS BIGINT) * try_cast(r.unit_price AS DECIMAL(18, 2)), 0) AS gross,
    o.discount_amount,
    CASE WHEN o.total = coalesce(o.subtotal, 0) + coalesce(o.shipping, 0) THEN coalesce(o.taxes, 0) ELSE 0 END AS included_tax
  FROM rows_ r JOIN orders o USING (order_name)
  WINDOW w AS (PARTITION BY r.order_name ORDER BY r._row)
),
shared AS (
  SELECT *,
    sum(gross) OVER (PARTITION BY order_name) AS order_gross,
    CASE WHEN sum(gross) OVER (PARTITION BY order_name) = 0 THEN 0
         ELSE round(discount_amount * gross / sum(gross) OVER (PARTITION BY order_name), 2)::DECIMAL(18, 2) END AS discount_share,
    CASE WHEN sum(gross) OVER (PARTITION BY order_name) = 0 THEN 0
         ELSE round(included_tax * gross / sum(gross) OVER (PARTITION BY order_name), 2)::DECIMAL(18, 2) END AS tax_share
  FROM priced
),
allocated AS (
  SELECT *,
    CASE WHEN line_no < line_count THEN discount_share
         ELSE discount_amount - coalesce(sum(discount_share) OVER (PARTITION BY order_name ORDER BY line_no ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) END AS discount,
    CASE WHEN line_no < line_count THEN tax_share
         ELSE included_tax - coalesce(sum(tax_share) OVER (PARTITION BY order_name ORDER BY line_no ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) END AS tax
  FROM shared
),
order_lines AS (
  SELECT order_name, list({
    line_no: line_no,
    sku: sku,
    quantity: CASE WHEN try_cast(quantity AS BIGINT) IS NOT NULL THEN to_json(try_cast(quantity AS BIGINT)) ELSE to_json(quantity) END,
    unit_price: unit_price,
    discount: {{ money('discount') }},
    tax: {{ money('tax') }}
  } ORDER BY line_no) AS lines
  FROM allocated GROUP BY order_name
)
SELECT
  o.seq * 4 AS seq,
  'shopify/order/' || o.order_name AS id,
  'order.placed' AS type,
  {{ rfc3339('o.created_at') }} AS time,
  to_json({
    order_id: o.order_name,
    placed_at: {{ rfc3339('o.created_at') }},
    customer_id: coalesce(o.email, 'guest-' || o.order_name),
    email: o.email,
    name: o.billing_name,
    phone: o.phone,
    channel: CASE WHEN o.source_name = 'pos' THEN 'store'
                  WHEN o.source_name IN ('iphone', 'android', 'mobile') THEN 'mobile' ELSE 'web' END,
    brand: coalesce(o.vendor, 'Shopify store'),
    country: {{ country_code('o.country_name') }},
    currency: o.currency,
    promised_delivery_at: {{ rfc3339("o.created_at + INTERVAL 3 DAY") }},
    lines: l.lines
  })::VARCHAR AS data
FROM orders o JOIN order_lines l USING (order_name)
UNION ALL
SELECT o.seq * 4 + 1, 'shopify/paid/' || o.order_name, 'order.status_changed', {{ rfc3339('o.paid_at') }},
  to_json({order_id: o.order_name, status: 'paid', changed_at: {{ rfc3339('o.paid_at') }}})::VARCHAR
FROM orders o WHERE o.paid_at IS NOT NULL
UNION ALL
SELECT o.seq * 4 + 2, 'shopify/cancelled/' || o.order_name, 'order.status_changed', {{ rfc3339('o.cancelled_at') }},
  to_json({order_id: o.order_name, status: 'cancelled', changed_at: {{ rfc3339('o.cancelled_at') }}})::VARCHAR
FROM orders o WHERE o.cancelled_at IS NOT NULL
UNION ALL
SELECT o.seq * 4 + 3, 'shopify/refund/' || o.order_name, 'return.refunded',
  {{ rfc3339('greatest(o.created_at, o.paid_at, o.fulfilled_at)') }},
  to_json({
    return_id: o.order_name || '-refund',
    order_id: o.order_name,
    refunded_at: {{ rfc3339('greatest(o.created_at, o.paid_at, o.fulfilled_at)') }},
    amount: {{ money('o.refunded_amount') }},
    currency: o.currency
  })::VARCHAR
FROM orders o WHERE o.cancelled_at IS NULL AND coalesce(o.refunded_amount, 0) <> 0
