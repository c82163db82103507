#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "shop/error.h"
#include "../src/core/emails.h"
#include "fakes.h"

/*
 * Who sees which messages: a user only their own (and nothing of
 * another's, not even in the total), an admin everybody's; the order
 * filter; pages; bad queries refused.
 */
#define U1 "11111111-0000-4000-8000-000000000001"
#define U2 "11111111-0000-4000-8000-000000000002"
#define O1 "abcdef12-0000-4000-8000-000000000001"
#define O2 "abcdef12-0000-4000-8000-000000000002"

struct fixture {
	struct fake_db db;
	struct email_reader r;
	struct arena *a;
	struct field_errors errs;
	struct email_page page;
};

static int setup(void **state)
{
	static struct fixture fx;

	fake_db_init(&fx.db);
	fx.r = fake_reader(&fx.db);
	fx.a = arena_new(0);
	field_errors_init(&fx.errs);
	/* U1: welcome, O1 confirmed; U2: O2 failed, O2 confirmed */
	if (!fake_db_add(&fx.db, U1, NULL, EMAIL_WELCOME) ||
	    !fake_db_add(&fx.db, U1, O1, EMAIL_ORDER_CONFIRMED) ||
	    !fake_db_add(&fx.db, U2, O2, EMAIL_ORDER_FAILED) ||
	    !fake_db_add(&fx.db, U2, O2, EMAIL_ORDER_CONFIRMED) || !fx.a)
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fake_db_release(&fx->db);
	arena_free(fx->a);
	return 0;
}

static int list(struct fixture *fx, const char *user, bool admin,
                const char *order, long page, long size)
{
	struct email_viewer who = {.user_id = user, .is_admin = admin};

	field_errors_init(&fx->errs);
	return emails_list(&fx->r, fx->a, &who, order, page, size, &fx->errs,
	                   &fx->page);
}

static void test_own_only(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(list(fx, U1, false, NULL, 1, 20), 0);
	assert_int_equal(fx->page.total, 2);
	assert_int_equal(fx->page.n, 2);
	for (size_t i = 0; i < fx->page.n; i++)
		assert_string_equal(fx->page.items[i].user_id, U1);
	/* newest first */
	assert_int_equal(fx->page.items[0].kind, EMAIL_ORDER_CONFIRMED);
	assert_int_equal(fx->page.items[1].kind, EMAIL_WELCOME);
	assert_null(fx->page.items[1].order_id);

	/* U2 asking for U1's order sees nothing, and no count of it */
	assert_int_equal(list(fx, U2, false, O1, 1, 20), 0);
	assert_int_equal(fx->page.total, 0);
	assert_int_equal(fx->page.n, 0);
	/* a user nobody mailed */
	assert_int_equal(list(fx, "11111111-0000-4000-8000-000000000009", false,
	                      NULL, 1, 20),
	                 0);
	assert_int_equal(fx->page.total, 0);
}

static void test_admin_sees_all(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(list(fx, "not-a-uuid-but-admin", true, NULL, 1, 20),
	                 0);
	assert_int_equal(fx->page.total, 4);
	assert_int_equal(list(fx, U1, true, O2, 1, 20), 0);
	assert_int_equal(fx->page.total, 2);
	for (size_t i = 0; i < fx->page.n; i++)
		assert_string_equal(fx->page.items[i].order_id, O2);
}

static void test_pages(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(list(fx, U1, true, NULL, 2, 3), 0);
	assert_int_equal(fx->page.total, 4);
	assert_int_equal(fx->page.n, 1);
	assert_int_equal(list(fx, U1, true, NULL, 3, 3), 0);
	assert_int_equal(fx->page.total, 4);
	assert_int_equal(fx->page.n, 0);
}

static void test_bad_queries(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(list(fx, U1, false, "nope", 1, 20), SHOP_EINVAL);
	assert_true(field_errors_has(&fx->errs, "order_id"));
	assert_int_equal(list(fx, U1, false, NULL, 0, 20), SHOP_EINVAL);
	assert_true(field_errors_has(&fx->errs, "page"));
	assert_int_equal(list(fx, U1, false, NULL, 1, 0), SHOP_EINVAL);
	assert_true(field_errors_has(&fx->errs, "page_size"));
	assert_int_equal(list(fx, U1, false, NULL, 1, 101), SHOP_EINVAL);
	/* a customer token whose subject is no user id */
	assert_int_equal(list(fx, "admin", false, NULL, 1, 20), SHOP_EAUTH);
	assert_int_equal(list(fx, NULL, false, NULL, 1, 20), SHOP_EAUTH);
	/* the reader failing is passed on */
	fx->db.fail_next = SHOP_EUNAVAIL;
	assert_int_equal(list(fx, U1, false, NULL, 1, 20), SHOP_EUNAVAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_own_only, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_admin_sees_all, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_queries, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
