-- Queue processing of orders: the last error of a failed attempt, and the message an order's
-- processing gave up on (kept with the order when it reaches the poison queue).
ALTER TABLE orders
    ADD COLUMN last_error     text,
    ADD COLUMN failed_message text;

-- The stuck-order sweep looks for leases that ran out: WHERE status = 'processing' AND processing_started_at < @cutoff.
CREATE INDEX orders_processing_lease_idx ON orders (processing_started_at) WHERE status = 'processing';
