#ifndef SHOP_ERROR_H
#define SHOP_ERROR_H

/*
 * Error codes shared by every module: 0 is success, a negative constant is a
 * failure (libuv style). A function that fails leaves its out-parameters
 * untouched.
 */
enum shop_err {
	SHOP_OK = 0,
	SHOP_ERR = -1,       /* unexpected runtime failure (logged) */
	SHOP_ENOMEM = -2,    /* allocation failed */
	SHOP_EINVAL = -3,    /* invalid input; field errors say which */
	SHOP_ENOTFOUND = -4, /* no such entity */
	SHOP_ECONFLICT = -5, /* unique key taken, or a state conflict */
	SHOP_EUNAVAIL = -6,  /* a dependency is down (database, broker, peer) */
	SHOP_ETIMEDOUT = -7, /* a dependency did not answer in time */
	SHOP_EFORBIDDEN = -8, /* authenticated but not allowed */
	SHOP_EAUTH = -9,      /* missing or invalid credentials */
};

/* Returns a static lowercase description of an shop_err code. */
const char *shop_strerror(int err);

/*
 * BUG() is for a programmer's mistake: print where and abort (git's BUG()).
 * Runtime failures return an error instead.
 */
#define BUG(...) shop__bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void shop__bug(const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
