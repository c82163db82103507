/*
 * shop-bench-jwt PUBLIC_KEY_PEM TOKEN [ITERATIONS]: what verifying one
 * access token costs, with the shared verifier (shop_jwt) as every daemon
 * and the gateway use it: first with the verified-token cache off (an
 * ECDSA P-256 verification and the claim checks every time), then with it
 * on (the same token again: a hash, a comparison and the time checks).
 * Prints microseconds per verification for both (scripts/bench.sh).
 * The token must be valid (iss shop-user, aud shop, not expired).
 */
#include "shop/error.h"
#include "shop/jwt.h"
#include "shop/log.h"
#include "shop/util.h"

#include <stdio.h>
#include <stdlib.h>

static double us_per_verify(const struct jwt_verifier *v, const char *token,
                            long n)
{
	struct jwt_claims c;
	uint64_t t0 = shop_now_ns();

	for (long i = 0; i < n; i++) {
		if (jwt_verify(v, token, &c, NULL) != 0) {
			fprintf(stderr, "shop-bench-jwt: the token does not "
			                "verify\n");
			exit(1);
		}
	}
	return (double)(shop_now_ns() - t0) / 1e3 / (double)n;
}

int main(int argc, char **argv)
{
	struct jwt_verifier *v = NULL;
	long n = 2000;
	double cold, warm;

	if (argc < 3 || argc > 4 ||
	    (argc == 4 && shop_parse_long(argv[3], 1, 10000000, &n) < 0)) {
		fprintf(stderr, "usage: shop-bench-jwt PUBLIC_KEY_PEM TOKEN "
		                "[ITERATIONS]\n");
		return 2;
	}
	slog_init("bench-jwt", SLOG_WARN);
	if (jwt_verifier_new(argv[1], "shop-user", "shop", 30, &v) < 0)
		return 1;
	if (jwt_verifier_set_cache(v, 0) < 0)
		return 1;
	cold = us_per_verify(v, argv[2], n);
	if (jwt_verifier_set_cache(v, JWT_CACHE_DEFAULT) < 0)
		return 1;
	warm = us_per_verify(v, argv[2], n * 50);
	printf("uncached %.2f us/verify (%ld runs), cached %.3f us/verify "
	       "(%ld runs)\n",
	       cold, n, warm, n * 50);
	jwt_verifier_free(v);
	return 0;
}
