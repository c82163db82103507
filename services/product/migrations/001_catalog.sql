-- The catalog: categories and products, with full-text and trigram search.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE categories (
	slug text PRIMARY KEY CHECK (slug ~ '^[a-z0-9-]{1,64}$'),
	name text NOT NULL
);

CREATE TABLE products (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	sku text NOT NULL UNIQUE CHECK (sku ~ '^[A-Za-z0-9_-]{1,64}$'),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	description text NOT NULL CHECK (length(description) <= 5000),
	category text NOT NULL REFERENCES categories (slug),
	price_cents bigint NOT NULL CHECK (price_cents BETWEEN 0 AND 100000000),
	currency char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
	image_url text NOT NULL DEFAULT '',
	stock integer NOT NULL CHECK (stock BETWEEN 0 AND 1000000),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	search tsvector GENERATED ALWAYS AS (
		setweight(to_tsvector('english', name), 'A') ||
		setweight(to_tsvector('english', description), 'B')) STORED
);

CREATE INDEX products_search_idx ON products USING gin (search);
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_newest_idx ON products (created_at DESC, id DESC);
CREATE INDEX products_category_idx ON products (category, created_at DESC);
CREATE INDEX products_price_idx ON products (price_cents, id);
