-- Transactional outbox: a message is written in the same transaction as the state change
-- and sent to its queue afterwards, so a crash between the two cannot lose it.
-- order_id is null for messages that do not concern an order (report jobs).
CREATE TABLE outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id       uuid        REFERENCES orders (id) ON DELETE CASCADE,
    queue_name     text        NOT NULL CHECK (queue_name ~ '^[a-z0-9]([a-z0-9-]{1,61})[a-z0-9]$'),
    payload        jsonb       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    dispatched_at  timestamptz
);

-- The dispatcher reads only pending messages, oldest first; dispatched rows drop out of the index.
CREATE INDEX outbox_pending_created_at_idx ON outbox (created_at) WHERE dispatched_at IS NULL;
