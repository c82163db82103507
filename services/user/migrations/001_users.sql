-- Accounts. Emails are stored lower-case (the service normalizes them; the
-- CHECK makes it a rule of the table, so the unique constraint is
-- case-insensitive and race-safe). The user.registered events go through
-- the outbox table, which shop_outbox creates (outbox_migrate()).
CREATE TABLE users (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	email text NOT NULL CHECK (email = lower(email)
		AND length(email) BETWEEN 3 AND 254 AND position('@' IN email) > 1),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	password_hash text NOT NULL CHECK (password_hash <> ''),
	role text NOT NULL DEFAULT 'customer'
		CHECK (role IN ('customer', 'admin')),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT users_email_key UNIQUE (email)
);
