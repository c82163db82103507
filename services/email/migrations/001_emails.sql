-- The email service's messages and their delivery attempts.
--
-- One message per (event_id, kind): the consumer's insert is
-- ON CONFLICT DO NOTHING on that key, so an event handled twice never
-- queues two messages. message_id is derived from the same pair
-- ("<event_id.kind@domain>"), so a resent message keeps its Message-ID.
--
-- Sending: a sender claims the oldest due queued message
-- (next_attempt_at <= now(), FOR UPDATE SKIP LOCKED), counts the attempt
-- and pushes next_attempt_at past the SMTP timeout: that is its lease.
-- Then it records the attempt in email_attempts and marks the message
-- sent, or due again after a backoff, or failed after the last attempt.

CREATE TABLE emails (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	event_id uuid NOT NULL,
	kind text NOT NULL
		CHECK (kind IN ('welcome', 'order_confirmed', 'order_failed')),
	user_id uuid NOT NULL,
	to_addr text NOT NULL CHECK (length(to_addr) BETWEEN 3 AND 254),
	order_id uuid,
	subject text NOT NULL,
	body_text text NOT NULL,
	message_id text NOT NULL,
	status text NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'sent', 'failed')),
	attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	last_error text,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	sent_at timestamptz,
	CONSTRAINT emails_event_kind UNIQUE (event_id, kind),
	CONSTRAINT emails_order_of_kind
		CHECK ((kind = 'welcome') = (order_id IS NULL)),
	CONSTRAINT emails_sent_at CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

-- What the senders claim.
CREATE INDEX emails_due ON emails (next_attempt_at) WHERE status = 'queued';
-- GET /api/emails: a user's newest first, everybody's (admin), one order's.
CREATE INDEX emails_user_newest ON emails (user_id, created_at DESC, id DESC);
CREATE INDEX emails_newest ON emails (created_at DESC, id DESC);
CREATE INDEX emails_order ON emails (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE email_attempts (
	email_id uuid NOT NULL REFERENCES emails (id) ON DELETE CASCADE,
	attempt integer NOT NULL CHECK (attempt >= 1),
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	ok boolean NOT NULL,
	error text,
	PRIMARY KEY (email_id, attempt)
);
