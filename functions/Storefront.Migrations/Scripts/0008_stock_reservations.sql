-- Never oversell: an order's lines are reserved at the inventory service when it is accepted (the reservation's id
-- is the order's id), committed when it is confirmed and released when it is rejected or fails. Null for orders
-- accepted before reservations existed: they hold nothing.
ALTER TABLE orders
    ADD COLUMN reservation_status text CHECK (reservation_status IN ('held', 'committed', 'released'));
