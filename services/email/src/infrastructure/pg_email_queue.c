#include "pg_email_queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "shop/log.h"

#define STMT_CLAIM "email_claim"
#define SQL_CLAIM                                                              \
	"UPDATE emails SET attempts = attempts + 1, "                          \
	"next_attempt_at = now() + $1::int * interval '1 millisecond' "        \
	"WHERE id = (SELECT id FROM emails WHERE status = 'queued' "           \
	"AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 1 "       \
	"FOR UPDATE SKIP LOCKED) "                                             \
	"RETURNING id, to_addr, subject, body_text, message_id, attempts"

/* The attempt and the message's new state in one statement; a failure
 * does not overwrite a newer claim (attempts moved on). */
#define STMT_FINISH "email_finish"
#define SQL_FINISH                                                             \
	"WITH att AS (INSERT INTO email_attempts (email_id, attempt, ok, "     \
	"error) VALUES ($1::uuid, $2::int, $3::text IS NULL, $3::text) "       \
	"ON CONFLICT DO NOTHING) "                                             \
	"UPDATE emails SET status = $4::text, last_error = $3::text, "         \
	"sent_at = CASE WHEN $4::text = 'sent' THEN now() ELSE sent_at END, "  \
	"next_attempt_at = now() + $5::int * interval '1 millisecond' "        \
	"WHERE id = $1::uuid AND status = 'queued' "                           \
	"AND ($4::text = 'sent' OR attempts = $2::int)"

#define STMT_DEPTH "email_depth"
#define SQL_DEPTH  "SELECT count(*) FROM emails WHERE status = 'queued'"

/* Maps a failed result: a broken connection is SHOP_EUNAVAIL (the owner
 * reconnects), anything else SHOP_ERR, logged. Clears res. */
static int failed(struct pg_email_queue *q, PGresult *res, const char *what)
{
	const char *state =
	        res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char msg[512];
	int rc = SHOP_ERR;

	snprintf(msg, sizeof(msg), "%s",
	         res ? PQresultErrorMessage(res) : PQerrorMessage(q->pg));
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (PQstatus(q->pg) == CONNECTION_BAD ||
	    (state &&
	     (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)))
		rc = SHOP_EUNAVAIL;
	else if (state &&
	         (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0))
		rc = SHOP_ETIMEDOUT;
	if (rc == SHOP_ERR)
		slog_error("cannot %s on '%s': %s", what, q->db_name, msg);
	PQclear(res);
	return rc;
}

static int exec(struct pg_email_queue *q, const char *stmt, int n,
                const char *const *p, const char *what, PGresult **out)
{
	PGresult *res;
	ExecStatusType st;

	if (!q->pg)
		return SHOP_EUNAVAIL;
	res = PQexecPrepared(q->pg, stmt, n, p, NULL, NULL, 0);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		return failed(q, res, what);
	if (out)
		*out = res;
	else
		PQclear(res);
	return 0;
}

int pg_email_queue_prepare(PGconn *pg, const char *db_name)
{
	static const char *const stmts[][2] = {
	        {STMT_CLAIM, SQL_CLAIM},
	        {STMT_FINISH, SQL_FINISH},
	        {STMT_DEPTH, SQL_DEPTH},
	};
	struct pg_email_queue q = {.pg = pg, .db_name = db_name};

	for (size_t i = 0; i < sizeof(stmts) / sizeof(*stmts); i++) {
		PGresult *res =
		        PQprepare(pg, stmts[i][0], stmts[i][1], 0, NULL);

		if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
			return failed(&q, res,
			              "prepare the sender's statements");
		PQclear(res);
	}
	return 0;
}

static int q_claim(void *self, struct arena *a, int lease_ms,
                   struct email_claimed *out)
{
	struct pg_email_queue *q = self;
	char lease[16];
	const char *p[1] = {lease};
	PGresult *res = NULL;
	struct email_claimed m;
	int rc;

	snprintf(lease, sizeof(lease), "%d", lease_ms);
	rc = exec(q, STMT_CLAIM, 1, p, "claim a message", &res);
	if (rc)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	m.id = arena_strdup(a, PQgetvalue(res, 0, 0));
	m.to = arena_strdup(a, PQgetvalue(res, 0, 1));
	m.subject = arena_strdup(a, PQgetvalue(res, 0, 2));
	m.text = arena_strdup(a, PQgetvalue(res, 0, 3));
	m.message_id = arena_strdup(a, PQgetvalue(res, 0, 4));
	m.attempt = (int)strtol(PQgetvalue(res, 0, 5), NULL, 10);
	PQclear(res);
	if (!m.id || !m.to || !m.subject || !m.text || !m.message_id)
		return SHOP_ENOMEM;
	*out = m;
	return 0;
}

static int q_finish(void *self, const char *id, int attempt, const char *error,
                    enum email_status status, long retry_in_ms)
{
	char att[16], retry[24];
	const char *p[5] = {id, att, error, email_status_name(status), retry};

	snprintf(att, sizeof(att), "%d", attempt);
	snprintf(retry, sizeof(retry), "%ld", retry_in_ms);
	return exec(self, STMT_FINISH, 5, p, "record a send attempt", NULL);
}

static const struct email_queue_ops queue_ops = {
        .claim = q_claim,
        .finish = q_finish,
};

struct email_queue pg_email_queue_port(struct pg_email_queue *q)
{
	return (struct email_queue){.ops = &queue_ops, .self = q};
}

int pg_email_queue_depth(struct pg_email_queue *q, long long *out)
{
	PGresult *res = NULL;
	int rc = exec(q, STMT_DEPTH, 0, NULL, "count queued messages", &res);

	if (rc)
		return rc;
	*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}
