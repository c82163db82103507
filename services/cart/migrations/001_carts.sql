-- Carts: one per user (the user id is the token's subject; users live in
-- user_db, so there is no foreign key to them). A line keeps a snapshot of
-- its product as it was when last added or changed: the read shows the
-- product service's current values and falls back to the snapshot when
-- that service cannot be reached (services/cart/README.md "Prices").
CREATE TABLE carts (
	user_id uuid PRIMARY KEY,
	updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cart_lines (
	user_id uuid NOT NULL REFERENCES carts (user_id) ON DELETE CASCADE,
	product_id uuid NOT NULL,
	quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
	sku text NOT NULL,
	name text NOT NULL,
	added_price_cents bigint NOT NULL CHECK (added_price_cents >= 0),
	currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
	added_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (user_id, product_id)
);

-- Durability: each change below commits with synchronous_commit off (set
-- for its own transaction only). A cart is not an order: if PostgreSQL
-- itself crashes, the last few hundred milliseconds of cart changes may be
-- lost, never corrupted, and the shopper sees the cart as it was just
-- before. That saves a WAL flush per change (measured: docs/performance.md
-- "Cart"). Orders, payments and emails keep synchronous commits.

-- The stored cart of a user as rows in the order the API shows them (oldest
-- line first); used by both functions below and by the load statement.
CREATE FUNCTION cart_rows(p_user uuid)
RETURNS TABLE (r_status integer, r_current integer, r_updated_at bigint,
	r_product_id text, r_quantity integer, r_sku text, r_name text,
	r_added_price_cents bigint, r_currency text)
LANGUAGE sql STABLE AS $$
	SELECT 0, 0, extract(epoch FROM c.updated_at)::bigint,
		l.product_id::text, l.quantity, l.sku, l.name,
		l.added_price_cents, l.currency::text
	FROM carts c LEFT JOIN cart_lines l ON l.user_id = c.user_id
	WHERE c.user_id = p_user
	ORDER BY l.added_at, l.product_id
$$;

-- Adds p_quantity to the user's line of p_product (creating the cart and
-- the line) and refreshes the line's snapshot, in one round trip. The cart
-- row is locked first, so one user's changes run one at a time and two
-- parallel adds of one product end with the summed quantity. The limits
-- come from the caller (core/carts.c): they are the cart's rules, this only
-- applies them atomically. Answers the cart after the change with
-- r_status 0, or one row with r_status
--   1  the line would exceed p_max_quantity (r_current: its quantity now)
--   2  a new line would exceed p_max_lines
--   3  another line of the cart is in another currency
-- and then changes nothing (beyond an empty cart row for a new user).
CREATE FUNCTION cart_add(p_user uuid, p_product uuid, p_quantity integer,
	p_sku text, p_name text, p_price bigint, p_currency text,
	p_max_quantity integer, p_max_lines integer)
RETURNS TABLE (r_status integer, r_current integer, r_updated_at bigint,
	r_product_id text, r_quantity integer, r_sku text, r_name text,
	r_added_price_cents bigint, r_currency text)
LANGUAGE plpgsql AS $$
DECLARE
	v_have integer;
	v_lines integer;
	v_other_currency boolean;
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	INSERT INTO carts (user_id) VALUES (p_user) ON CONFLICT DO NOTHING;
	PERFORM 1 FROM carts c WHERE c.user_id = p_user FOR UPDATE;

	SELECT l.quantity INTO v_have FROM cart_lines l
	WHERE l.user_id = p_user AND l.product_id = p_product;
	IF coalesce(v_have, 0) + p_quantity > p_max_quantity THEN
		RETURN QUERY SELECT 1, coalesce(v_have, 0), NULL::bigint,
			NULL::text, NULL::integer, NULL::text, NULL::text,
			NULL::bigint, NULL::text;
		RETURN;
	END IF;
	SELECT count(*), coalesce(bool_or(l.currency <> p_currency), false)
	INTO v_lines, v_other_currency
	FROM cart_lines l WHERE l.user_id = p_user AND l.product_id <> p_product;
	IF v_other_currency THEN
		RETURN QUERY SELECT 3, coalesce(v_have, 0), NULL::bigint,
			NULL::text, NULL::integer, NULL::text, NULL::text,
			NULL::bigint, NULL::text;
		RETURN;
	END IF;
	IF v_have IS NULL AND v_lines >= p_max_lines THEN
		RETURN QUERY SELECT 2, 0, NULL::bigint, NULL::text,
			NULL::integer, NULL::text, NULL::text, NULL::bigint,
			NULL::text;
		RETURN;
	END IF;

	INSERT INTO cart_lines AS l (user_id, product_id, quantity, sku, name,
		added_price_cents, currency)
	VALUES (p_user, p_product, p_quantity, p_sku, p_name, p_price,
		p_currency)
	ON CONFLICT (user_id, product_id) DO UPDATE SET
		quantity = l.quantity + EXCLUDED.quantity, sku = EXCLUDED.sku,
		name = EXCLUDED.name,
		added_price_cents = EXCLUDED.added_price_cents,
		currency = EXCLUDED.currency;
	UPDATE carts c SET updated_at = now() WHERE c.user_id = p_user;
	RETURN QUERY SELECT * FROM cart_rows(p_user);
END
$$;

-- Sets the quantity of the user's existing line of p_product (0 deletes
-- it); when p_sku is not NULL, refreshes the snapshot too. Answers the cart
-- after the change with r_status 0, or one row with r_status
--   1  the cart holds no such line
--   2  the new snapshot's currency is not that of the cart's other lines
-- and then changes nothing.
CREATE FUNCTION cart_set(p_user uuid, p_product uuid, p_quantity integer,
	p_sku text, p_name text, p_price bigint, p_currency text)
RETURNS TABLE (r_status integer, r_current integer, r_updated_at bigint,
	r_product_id text, r_quantity integer, r_sku text, r_name text,
	r_added_price_cents bigint, r_currency text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	PERFORM 1 FROM carts c WHERE c.user_id = p_user FOR UPDATE;
	IF p_quantity > 0 AND p_currency IS NOT NULL AND EXISTS (
		SELECT 1 FROM cart_lines l WHERE l.user_id = p_user
		AND l.product_id <> p_product AND l.currency <> p_currency)
		AND EXISTS (SELECT 1 FROM cart_lines l WHERE l.user_id = p_user
		AND l.product_id = p_product)
	THEN
		RETURN QUERY SELECT 2, 0, NULL::bigint, NULL::text,
			NULL::integer, NULL::text, NULL::text, NULL::bigint,
			NULL::text;
		RETURN;
	END IF;
	IF p_quantity = 0 THEN
		DELETE FROM cart_lines l
		WHERE l.user_id = p_user AND l.product_id = p_product;
	ELSE
		UPDATE cart_lines l SET quantity = p_quantity,
			sku = coalesce(p_sku, l.sku),
			name = coalesce(p_name, l.name),
			added_price_cents = coalesce(p_price, l.added_price_cents),
			currency = coalesce(p_currency, l.currency)
		WHERE l.user_id = p_user AND l.product_id = p_product;
	END IF;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 1, 0, NULL::bigint, NULL::text,
			NULL::integer, NULL::text, NULL::text, NULL::bigint,
			NULL::text;
		RETURN;
	END IF;
	UPDATE carts c SET updated_at = now() WHERE c.user_id = p_user;
	RETURN QUERY SELECT * FROM cart_rows(p_user);
END
$$;

-- Empties the user's cart, taking the cart row's lock first like the two
-- functions above (so a clear and an add cannot deadlock), and bumps
-- updated_at when there was something to remove.
CREATE FUNCTION cart_clear(p_user uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	PERFORM 1 FROM carts c WHERE c.user_id = p_user FOR UPDATE;
	DELETE FROM cart_lines l WHERE l.user_id = p_user;
	IF FOUND THEN
		UPDATE carts c SET updated_at = now() WHERE c.user_id = p_user;
	END IF;
END
$$;
