#include "fakes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"

void fake_db_init(struct fake_db *db)
{
	memset(db, 0, sizeof(*db));
}

void fake_db_release(struct fake_db *db)
{
	for (size_t i = 0; i < db->n; i++)
		free(db->m[i].text);
	fake_db_init(db);
}

static int take_failure(struct fake_db *db)
{
	int rc = db->fail_next;

	db->fail_next = 0;
	return rc;
}

static struct fake_message *new_row(struct fake_db *db)
{
	struct fake_message *m;

	if (db->n >= FAKE_MAX)
		return NULL;
	m = &db->m[db->n];
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "00000000-0000-4000-8000-%012zu",
	         db->n + 1);
	m->created = (long long)db->n + 1;
	m->due_ms = db->now_ms;
	db->n++;
	return m;
}

struct fake_message *fake_db_add(struct fake_db *db, const char *user_id,
                                 const char *order_id, enum email_kind kind)
{
	struct fake_message *m = new_row(db);

	if (!m)
		return NULL;
	/* same size (a UUID and its NUL); memcpy, as snprintf from one field of
	 * the row into another trips GCC's -Wrestrict at -O3 */
	memcpy(m->event_id, m->id, sizeof(m->event_id));
	m->kind = kind;
	snprintf(m->user_id, sizeof(m->user_id), "%s", user_id);
	snprintf(m->order_id, sizeof(m->order_id), "%s",
	         order_id ? order_id : "");
	snprintf(m->to, sizeof(m->to), "someone@example.com");
	snprintf(m->subject, sizeof(m->subject), "subject %lld", m->created);
	m->text = strdup("text\n");
	return m;
}

/* ---- store ---- */

static int f_insert(void *self, void *tx, const struct email_record *r)
{
	struct fake_db *db = self;
	struct fake_message *m;
	int rc = take_failure(db);

	(void)tx;
	if (rc)
		return rc;
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->m[i].event_id, r->event_id) == 0 &&
		    db->m[i].kind == r->kind)
			return 1;
	m = new_row(db);
	if (!m)
		return SHOP_ERR;
	snprintf(m->event_id, sizeof(m->event_id), "%s", r->event_id);
	m->kind = r->kind;
	snprintf(m->user_id, sizeof(m->user_id), "%s", r->user_id);
	snprintf(m->to, sizeof(m->to), "%s", r->to);
	snprintf(m->order_id, sizeof(m->order_id), "%s",
	         r->order_id ? r->order_id : "");
	snprintf(m->subject, sizeof(m->subject), "%s", r->subject);
	snprintf(m->message_id, sizeof(m->message_id), "%s", r->message_id);
	m->text = strdup(r->text);
	return m->text ? 0 : SHOP_ENOMEM;
}

static const struct email_store_ops store_ops = {.insert = f_insert};

struct email_store fake_store(struct fake_db *db)
{
	return (struct email_store){&store_ops, db};
}

/* ---- queue ---- */

static int f_claim(void *self, struct arena *a, int lease_ms,
                   struct email_claimed *out)
{
	struct fake_db *db = self;
	struct fake_message *best = NULL;
	int rc = take_failure(db);

	if (rc)
		return rc;
	for (size_t i = 0; i < db->n; i++) {
		struct fake_message *m = &db->m[i];
		if (m->status == EMAIL_QUEUED && m->due_ms <= db->now_ms &&
		    (!best || m->due_ms < best->due_ms))
			best = m;
	}
	if (!best)
		return 1;
	best->attempts++;
	best->due_ms = db->now_ms + lease_ms;
	out->id = arena_strdup(a, best->id);
	out->to = arena_strdup(a, best->to);
	out->subject = arena_strdup(a, best->subject);
	out->text = arena_strdup(a, best->text);
	out->message_id = arena_strdup(a, best->message_id);
	out->attempt = best->attempts;
	return 0;
}

static int f_finish(void *self, const char *id, int attempt, const char *error,
                    enum email_status status, long retry_in_ms)
{
	struct fake_db *db = self;
	int rc = db->fail_finish;

	db->fail_finish = 0;
	db->finishes++;
	if (rc)
		return rc;
	for (size_t i = 0; i < db->n; i++) {
		struct fake_message *m = &db->m[i];

		if (strcmp(m->id, id) != 0)
			continue;
		m->recorded++;
		if (m->status != EMAIL_QUEUED ||
		    (status != EMAIL_SENT && m->attempts != attempt))
			return 0;
		m->status = status;
		m->sent = status == EMAIL_SENT;
		m->due_ms = db->now_ms + retry_in_ms;
		snprintf(m->last_error, sizeof(m->last_error), "%s",
		         error ? error : "");
		return 0;
	}
	return SHOP_ERR;
}

static const struct email_queue_ops queue_ops = {
        .claim = f_claim,
        .finish = f_finish,
};

struct email_queue fake_queue(struct fake_db *db)
{
	return (struct email_queue){&queue_ops, db};
}

/* ---- reader ---- */

static bool matches(const struct fake_message *m, const struct email_filter *f)
{
	return (!f->user_id || strcmp(m->user_id, f->user_id) == 0) &&
	       (!f->order_id || strcmp(m->order_id, f->order_id) == 0);
}

static int f_list(void *self, struct arena *a, const struct email_filter *f,
                  struct email_page *out)
{
	struct fake_db *db = self;
	long long skip = (long long)(f->page - 1) * f->page_size, total = 0;
	struct email_view *items;
	size_t n = 0;
	int rc = take_failure(db);

	if (rc)
		return rc;
	items = arena_calloc(a, FAKE_MAX, sizeof(*items));
	if (!items)
		return SHOP_ENOMEM;
	for (size_t k = db->n; k-- > 0;) { /* newest first */
		const struct fake_message *m = &db->m[k];

		if (!matches(m, f))
			continue;
		if (total++ < skip || (long)n >= f->page_size)
			continue;
		items[n++] = (struct email_view){
		        .id = m->id,
		        .user_id = m->user_id,
		        .to = m->to,
		        .kind = m->kind,
		        .subject = m->subject,
		        .order_id = m->order_id[0] ? m->order_id : NULL,
		        .status = m->status,
		        .attempts = m->attempts,
		        .created_at = (time_t)m->created,
		};
	}
	out->items = items;
	out->n = n;
	out->total = total;
	return 0;
}

static const struct email_reader_ops reader_ops = {.list = f_list};

struct email_reader fake_reader(struct fake_db *db)
{
	return (struct email_reader){&reader_ops, db};
}

/* ---- transport, clock ---- */

static int f_send(void *self, const char *from, const char *to, const char *raw,
                  size_t len, char *why, size_t cap)
{
	struct fake_transport *t = self;

	t->sends++;
	snprintf(t->last_from, sizeof(t->last_from), "%s", from);
	snprintf(t->last_to, sizeof(t->last_to), "%s", to);
	if (t->fail_times > 0) {
		t->fail_times--;
		snprintf(why, cap, "connection refused (fake)");
		return t->error ? t->error : SHOP_EUNAVAIL;
	}
	free(t->last_raw);
	t->last_raw = strndup(raw, len);
	t->accepted++;
	return 0;
}

static const struct mail_transport_ops transport_ops = {.send = f_send};

void fake_transport_release(struct fake_transport *t)
{
	free(t->last_raw);
	t->last_raw = NULL;
}

struct mail_transport fake_mail_transport(struct fake_transport *t)
{
	return (struct mail_transport){&transport_ops, t};
}

static time_t clock_now(void *self)
{
	return *(time_t *)self;
}

struct email_clock fake_clock(time_t *t)
{
	return (struct email_clock){.now = clock_now, .self = t};
}
