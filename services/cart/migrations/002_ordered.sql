-- cart_take_ordered(user, products, quantities): what an order took
-- leaves the user's cart (order.created, EVENTS.md). Each ordered line's
-- quantity is subtracted from the cart's line of that product, and lines
-- that reach 0 go: after a checkout the cart is empty, yet a product the
-- shopper added between the checkout and the event (milliseconds, or
-- longer while the broker is down) stays. The cart row is locked like
-- every other change. Idempotency comes from the consumer's
-- processed_events row, written in the same transaction. Returns the
-- number of lines changed or removed.
CREATE FUNCTION cart_take_ordered(p_user uuid, p_products uuid[],
	p_quantities integer[])
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	PERFORM 1 FROM carts WHERE user_id = p_user FOR UPDATE;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	WITH ordered AS (
		SELECT u.p AS product_id, sum(u.q) AS q
		FROM unnest(p_products, p_quantities) AS u(p, q) GROUP BY u.p
	), gone AS (
		DELETE FROM cart_lines l USING ordered o
		WHERE l.user_id = p_user AND l.product_id = o.product_id
		  AND l.quantity <= o.q
		RETURNING 1
	), less AS (
		UPDATE cart_lines l SET quantity = l.quantity - o.q
		FROM ordered o
		WHERE l.user_id = p_user AND l.product_id = o.product_id
		  AND l.quantity > o.q
		RETURNING 1
	)
	SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM less)
	INTO n;
	IF n > 0 THEN
		UPDATE carts SET updated_at = now() WHERE user_id = p_user;
	END IF;
	RETURN n;
END;
$$;
