-- Stock reservations (ARCHITECTURE.md "The order saga", issue 5).
--
-- At checkout the order service reserves every line of an order, or none,
-- keyed by the order's id: products.stock goes down at once (it is what can
-- still be bought), and the reservation is 'held'. The order's outcome then
-- commits it (order.confirmed: the stock has left for good) or releases it
-- (order.failed: the stock comes back). A hold that reaches neither before
-- expires_at is released by the daemon's sweeper. Each step is one function
-- call, so that the daemon makes one round trip and no step is half done.

CREATE TABLE reservations (
	order_id uuid PRIMARY KEY,
	status text NOT NULL CHECK (status IN ('held', 'committed', 'released')),
	-- why it was released: 'order_failed', 'expired' or 'cancelled'
	release_reason text,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX reservations_expiry_idx ON reservations (expires_at)
	WHERE status = 'held';

-- One line per product, with the price it was reserved at (the order's
-- authoritative price). No foreign key to products: a product deleted later
-- leaves its reservations readable.
CREATE TABLE reservation_lines (
	order_id uuid NOT NULL REFERENCES reservations ON DELETE CASCADE,
	product_id uuid NOT NULL,
	quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
	sku text NOT NULL,
	name text NOT NULL,
	unit_price_cents bigint NOT NULL,
	currency char(3) NOT NULL,
	PRIMARY KEY (order_id, product_id)
);

-- reserve_stock(order, products, quantities, hold seconds): one row per line
-- with outcome 'created' (new) or 'replayed' (this order's reservation,
-- already there with the same lines; its status in status), or one row
-- whose outcome says why nothing was reserved:
--   'unknown'       product_id is no product;
--   'insufficient'  product_id has only `available` left;
--   'currency'      the products are priced in more than one currency;
--   'mismatch'      the order already holds a reservation of other lines.
-- products and quantities must be the same length, the ids distinct.
-- Products are locked in id order, so that two checkouts sharing products
-- cannot deadlock, and each is checked and decremented under its lock: two
-- buyers of the last unit cannot both win.
CREATE FUNCTION reserve_stock(p_order uuid, p_products uuid[],
                              p_quantities integer[], p_hold_s integer)
RETURNS TABLE (outcome text, status text, product_id uuid, quantity integer,
               sku text, name text, unit_price_cents bigint, currency text,
               available integer, expires_at timestamptz, prod products)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	inserted boolean;
	want jsonb;
	have jsonb;
	bad record;
	ncur integer;
BEGIN
	INSERT INTO reservations AS r (order_id, status, expires_at)
	VALUES (p_order, 'held', now() + make_interval(secs => p_hold_s))
	ON CONFLICT (order_id) DO NOTHING
	RETURNING true INTO inserted;

	IF inserted IS NULL THEN
		-- This order's reservation exists (a retry, or a concurrent twin
		-- that committed first): the same lines answer it again.
		SELECT coalesce(jsonb_object_agg(p, q), '{}') INTO want
		FROM unnest(p_products, p_quantities) AS u(p, q);
		SELECT coalesce(jsonb_object_agg(l.product_id, l.quantity), '{}')
		INTO have FROM reservation_lines l WHERE l.order_id = p_order;
		IF want <> have THEN
			RETURN QUERY SELECT 'mismatch'::text, r.status, NULL::uuid,
				NULL::integer, NULL::text, NULL::text, NULL::bigint,
				NULL::text, NULL::integer, r.expires_at, NULL::products
			FROM reservations r WHERE r.order_id = p_order;
			RETURN;
		END IF;
		RETURN QUERY SELECT 'replayed'::text, r.status, l.product_id,
			l.quantity, l.sku, l.name, l.unit_price_cents,
			l.currency::text, NULL::integer, r.expires_at, NULL::products
		FROM reservations r JOIN reservation_lines l USING (order_id)
		WHERE r.order_id = p_order ORDER BY l.product_id;
		RETURN;
	END IF;

	-- Lock the products in id order; then judge them all.
	PERFORM 1 FROM products p WHERE p.id = ANY (p_products)
	ORDER BY p.id FOR UPDATE;

	SELECT u.p AS id INTO bad
	FROM unnest(p_products) AS u(p)
	LEFT JOIN products p ON p.id = u.p
	WHERE p.id IS NULL LIMIT 1;
	IF FOUND THEN
		DELETE FROM reservations r WHERE r.order_id = p_order;
		RETURN QUERY SELECT 'unknown'::text, NULL::text, bad.id,
			NULL::integer, NULL::text, NULL::text, NULL::bigint,
			NULL::text, NULL::integer, NULL::timestamptz, NULL::products;
		RETURN;
	END IF;

	SELECT p.id, p.stock INTO bad
	FROM unnest(p_products, p_quantities) AS u(pid, q)
	JOIN products p ON p.id = u.pid
	WHERE p.stock < u.q ORDER BY p.id LIMIT 1;
	IF FOUND THEN
		DELETE FROM reservations r WHERE r.order_id = p_order;
		RETURN QUERY SELECT 'insufficient'::text, NULL::text, bad.id,
			NULL::integer, NULL::text, NULL::text, NULL::bigint,
			NULL::text, bad.stock, NULL::timestamptz, NULL::products;
		RETURN;
	END IF;

	SELECT count(DISTINCT p.currency) INTO ncur
	FROM products p WHERE p.id = ANY (p_products);
	IF ncur > 1 THEN
		DELETE FROM reservations r WHERE r.order_id = p_order;
		RETURN QUERY SELECT 'currency'::text, NULL::text, NULL::uuid,
			NULL::integer, NULL::text, NULL::text, NULL::bigint,
			NULL::text, NULL::integer, NULL::timestamptz, NULL::products;
		RETURN;
	END IF;

	UPDATE products p SET stock = p.stock - u.q, updated_at = now()
	FROM unnest(p_products, p_quantities) AS u(pid, q)
	WHERE p.id = u.pid;

	INSERT INTO reservation_lines (order_id, product_id, quantity, sku, name,
	                               unit_price_cents, currency)
	SELECT p_order, p.id, u.q, p.sku, p.name, p.price_cents, p.currency
	FROM unnest(p_products, p_quantities) AS u(pid, q)
	JOIN products p ON p.id = u.pid;

	-- With each product as it is now (for the daemon's caches).
	RETURN QUERY SELECT 'created'::text, r.status, l.product_id, l.quantity,
		l.sku, l.name, l.unit_price_cents, l.currency::text, NULL::integer,
		r.expires_at, p
	FROM reservations r JOIN reservation_lines l USING (order_id)
	JOIN products p ON p.id = l.product_id
	WHERE r.order_id = p_order ORDER BY l.product_id;
END;
$$;

-- release_reservation(order, reason): a held reservation's stock comes back
-- (capped at the products' limit) and it is 'released'. Returns the
-- products whose stock changed, as they are now (none when the order held
-- nothing, or it was already committed or released: a redelivered
-- order.failed, or a sweep that raced the event).
CREATE FUNCTION release_reservation(p_order uuid, p_reason text)
RETURNS SETOF products
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE reservations r SET status = 'released', release_reason = p_reason,
		updated_at = now()
	WHERE r.order_id = p_order AND r.status = 'held';
	IF NOT FOUND THEN
		RETURN;
	END IF;
	RETURN QUERY
	UPDATE products p SET stock = least(p.stock + l.quantity, 1000000),
		updated_at = now()
	FROM reservation_lines l
	WHERE l.order_id = p_order AND p.id = l.product_id
	RETURNING p.*;
END;
$$;

-- commit_reservation(order): the stock of a held reservation leaves for
-- good. Returns one row: 'committed', 'already' (a redelivery), 'none' (no
-- reservation for this order), or 'late' when the hold had expired and its
-- stock gone back: the order was paid, so the stock is taken again, as far
-- as there is any (the shortfall is logged for an operator).
CREATE FUNCTION commit_reservation(p_order uuid)
RETURNS TABLE (outcome text, shortfall integer)
LANGUAGE plpgsql AS $$
DECLARE
	cur text;
	missing integer := 0;
BEGIN
	SELECT r.status INTO cur FROM reservations r
	WHERE r.order_id = p_order FOR UPDATE;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 'none'::text, 0;
		RETURN;
	END IF;
	IF cur = 'committed' THEN
		RETURN QUERY SELECT 'already'::text, 0;
		RETURN;
	END IF;
	IF cur = 'released' THEN
		SELECT coalesce(sum(greatest(l.quantity - p.stock, 0)), 0)
		INTO missing
		FROM reservation_lines l JOIN products p ON p.id = l.product_id
		WHERE l.order_id = p_order;
		UPDATE products p SET stock = greatest(p.stock - l.quantity, 0),
			updated_at = now()
		FROM reservation_lines l
		WHERE l.order_id = p_order AND p.id = l.product_id;
	END IF;
	UPDATE reservations r SET status = 'committed', release_reason = NULL,
		updated_at = now()
	WHERE r.order_id = p_order;
	RETURN QUERY SELECT CASE WHEN cur = 'released' THEN 'late' ELSE
		'committed' END, missing;
END;
$$;

-- expire_reservations(limit): releases up to p_limit holds past their
-- expires_at (skipping any another replica is releasing). Returns the
-- products whose stock came back, as they are now (a product twice when
-- two expired orders held it).
CREATE FUNCTION expire_reservations(p_limit integer)
RETURNS SETOF products
LANGUAGE plpgsql AS $$
DECLARE
	o uuid;
BEGIN
	FOR o IN SELECT r.order_id FROM reservations r
		WHERE r.status = 'held' AND r.expires_at < now()
		ORDER BY r.expires_at LIMIT p_limit
		FOR UPDATE SKIP LOCKED
	LOOP
		RETURN QUERY SELECT * FROM release_reservation(o, 'expired');
	END LOOP;
END;
$$;
