-- Orders and reports retry transient failures over a time budget instead of a fixed number of queue
-- dequeues, and a crashed invocation gives its work back within one short, renewed lease.
--   lease_token / lease_expires_at  who is working on the row now, until when (renewed while it works)
--   next_attempt_at                 when the row is due next; a row overdue by much has lost its message,
--                                   and the sweep sends it a new one
--   last_error                      why it is waiting (the last attempt's failure), for the client and the operator
--   first_failure_at                start of the current run of failures, against which the budget counts
ALTER TABLE orders
    ADD COLUMN lease_token      uuid,
    ADD COLUMN lease_expires_at timestamptz,
    ADD COLUMN next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN first_failure_at timestamptz,
    -- Money follows the order: authorized at processing, captured on confirmation, voided on failure.
    ADD CONSTRAINT orders_payment_status_check
        CHECK (payment_status IN ('authorized', 'declined', 'captured', 'voided'));

-- Replaced by the lease columns; the message an order gave up on is no longer kept (orders no longer give up on a message).
ALTER TABLE orders DROP COLUMN processing_started_at, DROP COLUMN failed_message;
DROP INDEX IF EXISTS orders_status_updated_at_idx;

-- The sweep reads unfinished orders by due time.
CREATE INDEX orders_unfinished_due_idx ON orders (next_attempt_at) WHERE status IN ('accepted', 'processing');

ALTER TABLE reports
    ADD COLUMN attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN lease_token      uuid,
    ADD COLUMN lease_expires_at timestamptz,
    ADD COLUMN next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_error       text,
    ADD COLUMN first_failure_at timestamptz;

CREATE INDEX reports_unfinished_due_idx ON reports (next_attempt_at) WHERE status IN ('queued', 'running');
