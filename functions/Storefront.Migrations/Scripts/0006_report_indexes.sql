-- Reports aggregate confirmed orders by creation time; this index serves their range scans.
CREATE INDEX orders_confirmed_created_at_idx ON orders (created_at) WHERE status = 'confirmed';
