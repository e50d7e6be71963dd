-- materialized: view
-- description: Rate to EUR per currency and hour (EUR per 1 unit); a missing hour falls back to the latest earlier one.
SELECT currency, hour, rate_to_eur FROM {{ ref('silver_fx_rates') }}
