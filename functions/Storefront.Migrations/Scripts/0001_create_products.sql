-- Catalogue. Prices are stored in USD; other currencies are derived at request time.
-- sku uses the "C" collation so ordering (and therefore keyset pagination) is byte order,
-- the same on every server whatever its default locale; the primary key index serves
-- "WHERE sku > @after ORDER BY sku LIMIT @n".
CREATE TABLE products (
    sku          text COLLATE "C" PRIMARY KEY CHECK (sku ~ '^[A-Za-z0-9-]{1,64}$'),
    name         text          NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description  text          NOT NULL DEFAULT '',
    price_usd    numeric(12,2) NOT NULL CHECK (price_usd >= 0),
    created_at   timestamptz   NOT NULL DEFAULT now(),
    updated_at   timestamptz   NOT NULL DEFAULT now()
);

-- Case-insensitive prefix search: lower(name) LIKE lower(@prefix) || '%'.
-- text_pattern_ops lets LIKE use the index under any collation, without extensions such as pg_trgm.
CREATE INDEX products_lower_name_idx ON products (lower(name) text_pattern_ops);
