#ifndef USER_INFRA_PG_USER_REPO_H
#define USER_INFRA_PG_USER_REPO_H

#include "shop/db.h"
#include "../core/ports.h"

/*
 * The user repository on PostgreSQL (libpq through the shared pool), with
 * the user.registered event written to the transactional outbox in the
 * same transaction as the new row (shop/outbox.h). Registers its prepared
 * statements on the pool, so call it before db_pool_start(). Returns a
 * repo whose self is heap-allocated (free with pg_user_repo_free), or a
 * repo with NULL ops when out of memory or a statement does not prepare
 * (logged). The pool is borrowed and must outlive the repo.
 */
struct user_repo pg_user_repo_new(struct db_pool *pool);

/* Accepts a repo with NULL self. */
void pg_user_repo_free(struct user_repo repo);

#endif
