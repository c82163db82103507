-- Payments: one per order, charged against the built-in mock processor
-- when order.created arrives (services/payment/README.md). Users and
-- orders live in other databases, so there are no foreign keys to them.
-- A declined charge is a payment too: status 'declined' with its reason
-- and no provider reference.
CREATE TABLE payments (
	id uuid PRIMARY KEY,
	order_id uuid NOT NULL,
	user_id uuid NOT NULL,
	amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
	currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
	status text NOT NULL CHECK (status IN ('succeeded', 'declined')),
	failure_reason text,
	provider_ref text,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	-- One payment per order: the consumer's INSERT ... ON CONFLICT
	-- (order_id) DO NOTHING relies on it, so no order is charged twice.
	CONSTRAINT payments_order_id_key UNIQUE (order_id),
	CONSTRAINT payments_outcome_check CHECK (
		(status = 'succeeded' AND provider_ref IS NOT NULL
			AND failure_reason IS NULL)
		OR (status = 'declined' AND failure_reason IS NOT NULL
			AND provider_ref IS NULL))
);

-- GET /api/payments: a user's payments newest first, and every payment
-- newest first for an admin.
CREATE INDEX payments_user_created_idx
	ON payments (user_id, created_at DESC, id DESC);
CREATE INDEX payments_created_idx ON payments (created_at DESC, id DESC);
