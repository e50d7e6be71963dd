-- description: The UCI Online Retail export (one row per invoice line, GBP, UK local time). An invoice becomes one order.placed event with its rows as lines; an invoice whose number starts with 'C' is a cancellation and becomes one return.refunded event for Σ(−quantity × unit price). The export never names the invoice a cancellation reverses, so the refund's order_id is the cancellation's own number. A missing CustomerID becomes a guest per invoice. Country names become ISO codes; names that are not one country (Unspecified, European Community, Channel Islands) are kept and quarantined by the contract. Stock adjustments (quantity ≤ 0) and bad-debt entries (negative price) fail the contract and are quarantined with the reason.
-- columns: InvoiceNo, StockCode, Quantity, InvoiceDate, UnitPrice, CustomerID, Country
WITH rows_ AS (
  SELECT
    _row,
    trim(InvoiceNo::VARCHAR)                                          AS invoice,
    nullif(trim(StockCode::VARCHAR), '')                              AS sku,
    trim(Quantity::VARCHAR)                                           AS quantity,
    trim(UnitPrice::VARCHAR)                                          AS unit_price,
    timezone('Europe/London', coalesce(
      try_strptime(trim(InvoiceDate::VARCHAR), '%Y-%m-%d %H:%M:%S'),
      try_strptime(trim(InvoiceDate::VARCHAR), '%m/%d/%Y %H:%M')))    AS invoiced_at,
    nullif(regexp_replace(trim(CustomerID::VARCHAR), '\.0+$', ''), '') AS customer,
    trim(Country::VARCHAR)                                            AS country_name
  FROM source_rows
  WHERE nullif(trim(InvoiceNo::VARCHAR), '') IS NOT NULL OR nullif(trim(StockCode::VARCHAR), '') IS NOT NULL
),
lines AS (
  SELECT *, row_number() OVER (PARTITION BY invoice ORDER BY _row) AS line_no
  FROM rows_ WHERE NOT starts_with(invoice, 'C')
),
orders AS (
  SELECT
    min(_row) AS seq,
    invoice,
    min(invoiced_at) AS placed_at,
    any_value(customer) AS customer,
    any_value(country_name) AS country_name,
    list({
      line_no: line_no,
      sku: sku,
      quantity: CASE WHEN try_cast(quantity AS BIGINT) IS NOT NULL THEN to_json(try_cast(quantity AS BIGINT)) ELSE to_json(quantity) END,
      unit_price: unit_price,
      discount: '0',
      tax: '0'
    } ORDER BY _row) AS lines
  FROM lines GROUP BY invoice
),
refunds AS (
  SELECT
    min(_row) AS seq,
    invoice,
    max(invoiced_at) AS refunded_at,
    CASE WHEN count(*) FILTER (WHERE try_cast(quantity AS DECIMAL(18, 0)) IS NULL
                                  OR try_cast(unit_price AS DECIMAL(28, 10)) IS NULL) = 0
         THEN sum(-try_cast(quantity AS DECIMAL(18, 0)) * try_cast(unit_price AS DECIMAL(28, 10))) END AS amount
  FROM rows_ WHERE starts_with(invoice, 'C') GROUP BY invoice
)
SELECT
  seq,
  'online-retail/order/' || invoice AS id,
  'order.placed' AS type,
  {{ rfc3339('placed_at') }} AS time,
  to_json({
    order_id: invoice,
    placed_at: {{ rfc3339('placed_at') }},
    customer_id: coalesce(customer, 'guest-' || invoice),
    channel: 'web',
    brand: 'Online Retail',
    country: {{ country_code('country_name') }},
    currency: 'GBP',
    promised_delivery_at: {{ rfc3339("placed_at + INTERVAL 3 DAY") }},
    lines: lines
  })::VARCHAR AS data
FROM orders
UNION ALL
SELECT
  seq,
  'online-retail/refund/' || invoice,
  'return.refunded',
  {{ rfc3339('refunded_at') }},
  to_json({
    return_id: invoice,
    order_id: invoice,
    refunded_at: {{ rfc3339('refunded_at') }},
    amount: {{ money('amount') }},
    currency: 'GBP'
  })::VARCHAR
FROM refunds
