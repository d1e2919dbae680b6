-- Report jobs: requested over HTTP (queued), built from a queue message (running),
-- and written to a blob (ready) or given up on (failed).
CREATE TABLE reports (
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('sales-by-day', 'top-products')),
    from_date       date        NOT NULL,
    to_date         date        NOT NULL,
    currency        char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status          text        NOT NULL DEFAULT 'queued'
                                CHECK (status IN ('queued', 'running', 'ready', 'failed')),
    row_count       bigint      CHECK (row_count >= 0),
    byte_count      bigint      CHECK (byte_count >= 0),
    blob_name       text,
    failure_reason  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    completed_at    timestamptz,
    CONSTRAINT reports_date_range_check CHECK (from_date <= to_date)
);
