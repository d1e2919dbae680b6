-- The idempotency key of the request whose attempt owes the release: a retry with that key that finds its stock short
-- settles its earlier attempts' owed releases first, instead of being refused for units it held itself.
ALTER TABLE reservation_releases ADD COLUMN idempotency_key text;

CREATE INDEX reservation_releases_idempotency_key_idx ON reservation_releases (idempotency_key);
