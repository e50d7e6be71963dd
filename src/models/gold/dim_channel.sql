-- materialized: incremental
-- unique_key: channel
-- order_by: valid_from
-- description: The sales channel dimension, SCD2.
SELECT
  channel,
  row_number() OVER w                     AS version,
  name, type,
  effective_at                            AS valid_from,
  lead(effective_at) OVER w               AS valid_to,
  lead(effective_at) OVER w IS NULL       AS is_current,
  _ingested_at,
  {{ hi }}::BIGINT                        AS _updated_seq
FROM (
  SELECT * FROM {{ ref('silver_channels') }}
  {% if incremental %}
  WHERE channel IN (SELECT channel FROM {{ ref('silver_channels') }} WHERE _updated_seq > {{ lo }})
  {% endif %}
  QUALIFY row_number() OVER (PARTITION BY channel, effective_at ORDER BY _seq DESC) = 1
)
WINDOW w AS (PARTITION BY channel ORDER BY effective_at)
