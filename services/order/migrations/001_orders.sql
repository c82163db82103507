-- Orders, their items and status history (API.md "Orders"). The outbox
-- and processed_events tables belong to the shared library (outbox.h,
-- consumer.h) and are created by it.

CREATE TABLE orders (
	id uuid PRIMARY KEY,
	user_id uuid NOT NULL,
	user_email text NOT NULL,
	status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'failed')),
	currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
	total_cents bigint NOT NULL CHECK (total_cents >= 0),
	shipping_address jsonb NOT NULL,
	-- Idempotency-Key and the canonical request it came with; a key is
	-- the user's own (unique per user).
	idempotency_key text,
	request_fingerprint text,
	-- The payment's outcome, from payment.completed / payment.failed.
	payment_status text CHECK (payment_status IN ('succeeded', 'declined')),
	payment_id uuid,
	failure_reason text,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (user_id, idempotency_key)
);

CREATE INDEX orders_user_newest_idx ON orders (user_id, created_at DESC, id DESC);

CREATE TABLE order_items (
	order_id uuid NOT NULL REFERENCES orders ON DELETE CASCADE,
	line smallint NOT NULL,
	product_id uuid NOT NULL,
	sku text NOT NULL,
	name text NOT NULL,
	unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
	quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
	PRIMARY KEY (order_id, line)
);

CREATE TABLE order_status_history (
	order_id uuid NOT NULL REFERENCES orders ON DELETE CASCADE,
	seq smallint NOT NULL,
	status text NOT NULL,
	at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (order_id, seq)
);

-- create_order: the order, its items (a JSON array of {product_id, sku,
-- name, unit_price_cents, quantity}) and its first history entry, in one
-- round trip. A taken (user_id, idempotency_key) raises unique_violation.
-- Returns created_at as epoch seconds.
CREATE FUNCTION create_order(p_id uuid, p_user uuid, p_email text,
                             p_currency text, p_total bigint,
                             p_address jsonb, p_key text,
                             p_fingerprint text, p_items jsonb)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz := now();
BEGIN
	INSERT INTO orders (id, user_id, user_email, status, currency,
	                    total_cents, shipping_address, idempotency_key,
	                    request_fingerprint, created_at, updated_at)
	VALUES (p_id, p_user, p_email, 'pending', p_currency, p_total,
	        p_address, p_key, p_fingerprint, t, t);
	INSERT INTO order_items (order_id, line, product_id, sku, name,
	                         unit_price_cents, quantity)
	SELECT p_id, (i.ord - 1)::smallint, (i.item->>'product_id')::uuid,
	       i.item->>'sku', i.item->>'name',
	       (i.item->>'unit_price_cents')::bigint,
	       (i.item->>'quantity')::integer
	FROM jsonb_array_elements(p_items) WITH ORDINALITY AS i(item, ord);
	INSERT INTO order_status_history (order_id, seq, status, at)
	VALUES (p_id, 0, 'pending', t);
	RETURN extract(epoch from t)::bigint;
END;
$$;

-- apply_payment: moves a pending order to p_status ('confirmed' or
-- 'failed') with its payment's outcome and a history entry. Returns one
-- row: outcome 'moved' (with what the outgoing event needs), 'unchanged'
-- (the order had already left pending: a duplicate or late result) or
-- 'none' (no such order).
CREATE FUNCTION apply_payment(p_id uuid, p_status text, p_payment uuid,
                              p_reason text)
RETURNS TABLE (outcome text, user_id uuid, user_email text,
               currency text, total_cents bigint, items jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	cur text;
BEGIN
	SELECT o.status INTO cur FROM orders o WHERE o.id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 'none'::text, NULL::uuid, NULL::text,
			NULL::text, NULL::bigint, NULL::jsonb;
		RETURN;
	END IF;
	IF cur <> 'pending' THEN
		RETURN QUERY SELECT 'unchanged'::text, NULL::uuid, NULL::text,
			NULL::text, NULL::bigint, NULL::jsonb;
		RETURN;
	END IF;
	UPDATE orders o SET status = p_status,
		payment_status = CASE WHEN p_status = 'confirmed'
			THEN 'succeeded' ELSE 'declined' END,
		payment_id = p_payment, failure_reason = p_reason,
		updated_at = now()
	WHERE o.id = p_id;
	INSERT INTO order_status_history (order_id, seq, status)
	SELECT p_id, coalesce(max(h.seq), -1) + 1, p_status
	FROM order_status_history h WHERE h.order_id = p_id;
	RETURN QUERY SELECT 'moved'::text, o.user_id, o.user_email,
		o.currency::text, o.total_cents,
		(SELECT jsonb_agg(jsonb_build_object(
			'product_id', i.product_id, 'sku', i.sku, 'name', i.name,
			'quantity', i.quantity,
			'unit_price_cents', i.unit_price_cents) ORDER BY i.line)
		 FROM order_items i WHERE i.order_id = p_id)
	FROM orders o WHERE o.id = p_id;
END;
$$;
