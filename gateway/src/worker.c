/*
 * A worker's event loop: one epoll set holding libmicrohttpd's epoll fd,
 * a wake-up eventfd and this worker's upstream sockets.
 */
#include "worker.h"

#include "worker_internal.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_EVENTS       256
#define SPIN_MIN_WAITING 2u /* likewise */

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	slog_kv(SLOG_WARN, NULL, "libmicrohttpd", SLOG_S("detail", msg));
}

static long per_worker(long total, unsigned nworkers)
{
	return (total + (long)nworkers - 1) / (long)nworkers;
}

static int watch(int epfd, int fd, void *ptr)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ptr};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

struct worker *worker_new(const struct gateway *gw, unsigned index,
                          unsigned nworkers)
{
	const struct gw_config *cfg = gw->cfg;
	const union MHD_DaemonInfo *info;
	struct worker *w = calloc(1, sizeof(*w));
	unsigned flags =
	        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	char label[32];

	if (!w) {
		slog_error("cannot start worker %u: out of memory", index);
		return NULL;
	}
	w->gw = gw;
	w->index = index;
	w->epfd = -1;
	w->wake_fd = -1;
	w->mhd_tag = EV_MHD;
	w->wake_tag = EV_WAKE;
	trace_rng_init(&w->rng);
	metrics_cache_init(&w->mcache);
	snprintf(label, sizeof(label), "worker=\"%u\"", index);
	w->served = metrics_counter("gateway_worker_requests_total",
	                            "Requests completed by each worker thread "
	                            "(how evenly the kernel spreads clients)",
	                            label);
	w->parked = metrics_counter("gateway_parked_total",
	                            "Requests suspended while waiting for "
	                            "their upstream (the slow path)",
	                            "");
	if (cfg->listen.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->epfd < 0 || w->wake_fd < 0) {
		slog_error("cannot start worker %u: %s", index,
		           strerror(errno));
		goto fail;
	}
	w->pool = upstream_pool_new(
	        gw->upstreams, w->epfd, (unsigned)cfg->connect_timeout_ms,
	        (unsigned)cfg->response_timeout_ms,
	        (unsigned)cfg->upstream_idle_ms,
	        (size_t)cfg->upstream_keepalive, (size_t)cfg->max_response);
	if (!w->pool) {
		slog_error("cannot start worker %u: out of memory", index);
		goto fail;
	}
	{
		/* per worker: the kernel spreads connections over the
		 * workers' sockets by hash, so each enforces its share of
		 * the process-wide limits */
		struct MHD_OptionItem opts[] = {
		        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, w},
		        {MHD_OPTION_SOCK_ADDR, 0, (void *)&cfg->listen},
		        {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
		        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
		        {MHD_OPTION_CONNECTION_LIMIT,
		         per_worker(cfg->max_connections, nworkers), NULL},
		        {MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		         cfg->per_ip_connections
		                 ? per_worker(cfg->per_ip_connections, nworkers)
		                 : 0,
		         NULL},
		        {MHD_OPTION_CONNECTION_TIMEOUT, cfg->client_timeout_s,
		         NULL},
		        {MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		         cfg->connection_memory, NULL},
		        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)handler_uri, w},
		        {MHD_OPTION_NOTIFY_COMPLETED,
		         (intptr_t)handler_completed, w},
		        {MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, NULL},
		        {MHD_OPTION_END, 0, NULL},
		};

		w->mhd = MHD_start_daemon(
		        flags, (uint16_t)cfg->port, NULL, NULL, handler_access,
		        w, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	}
	if (!w->mhd) {
		slog_kv(SLOG_ERROR, NULL, "cannot listen",
		        SLOG_S("address", cfg->address),
		        SLOG_I("port", cfg->port), SLOG_I("worker", index));
		goto fail;
	}
	info = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || watch(w->epfd, info->epoll_fd, &w->mhd_tag) < 0 ||
	    watch(w->epfd, w->wake_fd, &w->wake_tag) < 0) {
		slog_error("cannot start worker %u: cannot watch its sockets",
		           index);
		goto fail;
	}
	return w;
fail:
	worker_free(w);
	return NULL;
}

/* Stop accepting; what is in flight goes on until done or the deadline. */
static void begin_stop(struct worker *w)
{
	MHD_socket fd;

	if (w->stopping)
		return;
	w->stopping = true;
	w->stop_deadline = shop_now_ns() +
	                   (uint64_t)w->gw->cfg->shutdown_timeout_ms * 1000000u;
	fd = MHD_quiesce_daemon(w->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

static int loop_timeout(struct worker *w, uint64_t now, bool *mhd_due_now)
{
	MHD_UNSIGNED_LONG_LONG mto;
	uint64_t deadline = upstream_pool_next_deadline(w->pool);
	long long ms = -1;

	*mhd_due_now = false;
	if (MHD_get_timeout(w->mhd, &mto) == MHD_YES) {
		ms = mto > INT_MAX ? INT_MAX : (long long)mto;
		if (mto == 0)
			*mhd_due_now = true;
	}
	if (w->stopping && w->stop_deadline < deadline)
		deadline = w->stop_deadline;
	if (deadline != UINT64_MAX) {
		long long d = deadline <= now
		                      ? 0
		                      : (long long)((deadline - now + 999999) /
		                                    1000000);

		if (ms < 0 || d < ms)
			ms = d;
	}
	if (w->stopping && (ms < 0 || ms > 50))
		ms = 50;
	return (int)ms;
}

static void drain_wake(struct worker *w)
{
	uint64_t v;

	if (read(w->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		slog_warn("worker %u: cannot read its wake-up fd", w->index);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[MAX_EVENTS];

	for (;;) {
		uint64_t now = shop_now_ns(), after;
		bool mhd_due, run_mhd;
		int timeout = loop_timeout(w, now, &mhd_due);
		int n = epoll_wait(w->epfd, evs, MAX_EVENTS, timeout);

		if (n < 0) {
			if (errno != EINTR)
				slog_error("worker %u: epoll_wait: %s",
				           w->index, strerror(errno));
			n = 0;
		}
		run_mhd = mhd_due || n == 0;
		for (int i = 0; i < n; i++) {
			enum ev_tag *tag = evs[i].data.ptr;

			if (*tag == EV_UPCONN) {
				upstream_pool_event(w->pool, tag,
				                    evs[i].events);
			} else if (*tag == EV_MHD) {
				run_mhd = true;
			} else {
				drain_wake(w);
				begin_stop(w);
			}
		}
		after = shop_now_ns();
		w->now = after;
		upstream_pool_expire(w->pool, after);
		if (timeout > 0 && after - now >= (uint64_t)timeout * 1000000u)
			run_mhd = true;
		/* Requests waiting for their upstream stay in libmicrohttpd's
		 * ready list (no suspend, no epoll_ctl) while the loop is
		 * busy. When it runs out of events it yields the CPU (the
		 * upstream may be the one needing it) and polls again; only
		 * after GATEWAY_SPIN_US without any event are the waiting
		 * requests parked (suspended), so that the loop can sleep. A
		 * lone waiting request is parked at once: at that load the two
		 * epoll_ctl() calls cost less than spinning. The default spin
		 * is 0: in front of the real product service (~20 us of CPU per
		 * request on the same cores) spinning took CPU the upstream
		 * needed (gateway 35-40 vs 25-31 us/request,
		 * docs/performance.md); only a near-instant upstream gains from
		 * it. */
		if (n == 0 && w->unparked > 0) {
			if (!w->idle_since)
				w->idle_since = after;
			if (after - w->idle_since >=
			            (uint64_t)w->gw->cfg->spin_us * 1000u ||
			    w->unparked < SPIN_MIN_WAITING) {
				w->park = true;
				run_mhd = true;
			} else {
				sched_yield();
			}
		} else {
			w->idle_since = 0;
		}
		if (run_mhd || w->need_run) {
			w->need_run = false;
			MHD_run(w->mhd);
		}
		w->park = false;
		if (!w->stopping)
			continue;
		if (w->inflight == 0)
			break;
		if (after >= w->stop_deadline) {
			/* out of time: answer what still waits, then go */
			handler_cancel_waiting(w);
			for (int i = 0; i < 8 && w->need_run; i++) {
				w->need_run = false;
				MHD_run(w->mhd);
			}
			break;
		}
	}
	return NULL;
}

int worker_start(struct worker *w)
{
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		return SHOP_ERR;
	w->started = true;
	return 0;
}

void worker_stop(struct worker *w)
{
	uint64_t one = 1;
	ssize_t rc = write(w->wake_fd, &one, sizeof(one));

	(void)rc; /* a full eventfd already says "stop" */
}

void worker_join(struct worker *w)
{
	if (w->started) {
		pthread_join(w->thread, NULL);
		w->started = false;
	}
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	if (w->mhd) {
		/* libmicrohttpd refuses to stop under suspended connections */
		handler_cancel_waiting(w);
		for (int i = 0; i < 8 && w->need_run; i++) {
			w->need_run = false;
			MHD_run(w->mhd);
		}
		MHD_stop_daemon(w->mhd);
	}
	upstream_pool_free(w->pool);
	handler_free_requests(w);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	free(w);
}
