-- Releases still owed to the inventory service: a reservation held for an order that was never stored (its placement
-- failed after reserving) whose release inventory did not confirm at the time (refused, timed out, circuit open), or
-- did not know yet while a reservation call may still land. The sweep tries each again until inventory confirms it or
-- the hold has expired by itself (expires_at), so a burst or a blip does not keep the units from sale for the whole TTL.
CREATE TABLE reservation_releases (
    reservation_id  uuid        PRIMARY KEY,
    next_attempt_at timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL
);

CREATE INDEX reservation_releases_next_attempt_at_idx ON reservation_releases (next_attempt_at);
