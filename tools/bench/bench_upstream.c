/*
 * shop-bench-upstream PORT [THREADS]
 *
 * The HTTP ceiling of this machine as libmicrohttpd sees it: every request,
 * whatever its method and path, gets 200 and one fixed ~200-byte JSON body,
 * from a thread pool (default: the number of cores) polling with epoll --
 * the configuration PERFORMANCE.md recommends for the daemons. The bench
 * measures it directly and uses it as the upstream of the gateway and of
 * nginx, which isolates what each proxy costs. SIGTERM/SIGINT stop it.
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char body[] =
        "{\"id\":\"6f1c2a9e-8d3b-4c57-9a0e-2b7d4f8c1e35\",\"sku\":\"BENCH-"
        "0001\","
        "\"name\":\"Benchmark Widget\",\"category\":\"bench\","
        "\"price_cents\":1999,\"currency\":\"EUR\",\"stock\":42,"
        "\"created_at\":\"2026-01-01T00:00:00Z\"}";

static struct MHD_Response *response;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	if (!*req_cls) {
		*req_cls = conn; /* first call: headers only */
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a body is read and dropped */
		return MHD_YES;
	}
	return MHD_queue_response(conn, MHD_HTTP_OK, response);
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	sigset_t sigs;
	long port, threads;
	int sig;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
		return 2;
	}
	port = strtol(argv[1], NULL, 10);
	threads = argc == 3 ? strtol(argv[2], NULL, 10)
	                    : sysconf(_SC_NPROCESSORS_ONLN);
	if (port < 1 || port > 65535 || threads < 1 || threads > 256) {
		fprintf(stderr, "%s: invalid port or thread count\n", argv[0]);
		return 2;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	response = MHD_create_response_from_buffer(
	        sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "application/json");
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	                             MHD_USE_ERROR_LOG,
	                     (uint16_t)port, NULL, NULL, answer, NULL,
	                     MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
	                     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096,
	                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
	                     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "%s: cannot listen on port %ld\n", argv[0],
		        port);
		return 1;
	}
	printf("listening on %ld with %ld threads\n", port, threads);
	fflush(stdout);
	while (sigwait(&sigs, &sig) != 0)
		;
	MHD_stop_daemon(d);
	MHD_destroy_response(response);
	return 0;
}
