#include "health.h"

#include "metrics_gw.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>

/* Probes in a row that must time out before a busy upstream is down. */
#define HEALTH_TIMEOUTS_FOR_DOWN 3
#include <sys/socket.h>
#include <unistd.h>

struct probe {
	int fd;
	bool connected;
	bool done;
	int status;        /* the HTTP status, 0 when none */
	const char *error; /* why it failed: a static string */
	size_t sent, got;
	char req[256];
	size_t req_len;
	char resp[64];
};

static void probe_open(struct probe *p, const struct upstream_addr *a)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->req_len = (size_t)snprintf(p->req, sizeof(p->req),
	                              "GET /health HTTP/1.1\r\nHost: %s\r\n"
	                              "User-Agent: shop-gateway\r\n"
	                              "Connection: close\r\n\r\n",
	                              a->name);
	p->fd = socket(a->sa.ss_family,
	               SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		p->done = true;
		p->error = "cannot create a socket";
		return;
	}
	if (connect(p->fd, (const struct sockaddr *)&a->sa, a->salen) == 0) {
		p->connected = true;
	} else if (errno != EINPROGRESS) {
		p->done = true;
		p->error = errno == ECONNREFUSED ? "connection refused"
		                                 : "cannot connect";
	}
}

/* Advances a probe on poll() events. */
static void probe_step(struct probe *p, short revents)
{
	if (!p->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
		    err) {
			p->done = true;
			p->error = err == ECONNREFUSED ? "connection refused"
			                               : "cannot connect";
			return;
		}
		if (!(revents & POLLOUT))
			return;
		p->connected = true;
	}
	while (p->sent < p->req_len) {
		ssize_t w = send(p->fd, p->req + p->sent, p->req_len - p->sent,
		                 MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN)
				return;
			p->done = true;
			p->error = "connection reset";
			return;
		}
		p->sent += (size_t)w;
	}
	/* read to the end (the probe asked for Connection: close), so the
	 * socket is not reset under an answer still being written; only the
	 * status line is kept */
	for (;;) {
		char sink[512];
		size_t room = sizeof(p->resp) - 1 - p->got;
		ssize_t n = room ? recv(p->fd, p->resp + p->got, room, 0)
		                 : recv(p->fd, sink, sizeof(sink), 0);

		if (n < 0) {
			if (errno == EAGAIN)
				return;
			p->done = true;
			if (!p->status)
				p->error = "connection reset";
			return;
		}
		if (room) {
			p->got += (size_t)n;
			p->resp[p->got] = '\0';
		}
		if (!p->status && p->got >= 12) {
			int st = 0;

			if (memcmp(p->resp, "HTTP/1.", 7) == 0 &&
			    sscanf(p->resp + 9, "%3d", &st) == 1 && st > 0) {
				p->status = st;
			} else {
				p->done = true;
				p->error = "not an HTTP response";
				return;
			}
		}
		if (n == 0) {
			p->done = true;
			if (!p->status)
				p->error = "not an HTTP response";
			return;
		}
	}
}

static void record(struct upstream_addr *a, const struct probe *p,
                   uint64_t cooldown_ns, uint64_t started_ns)
{
	int before = atomic_load(&a->health);
	bool up = p->status >= 200 && p->status < 300;
	uint64_t retry_at = atomic_load(&a->retry_at);
	char why[64];

	/* A worker found it down after this probe began (the upstream died
	 * meanwhile, say): that is the newer news. */
	if (up && before == UPSTREAM_DOWN && retry_at >= cooldown_ns &&
	    retry_at - cooldown_ns > started_ns)
		return;

	/* A probe that merely ran out of time (a busy upstream) counts only
	 * when it repeats: marking the only upstream of a service down on one
	 * slow answer would turn a hiccup into a second of 503s. An upstream
	 * that refuses or answers an error is down at once. A failed probe of
	 * an address already down (by a worker, or an earlier round) puts off
	 * its next trial by a cool-down: while the prober keeps finding it
	 * down, no request tries it. */
	if (up) {
		a->probe_failures = 0;
		upstream_mark_up(a);
	} else if (!p->status && p->error && strcmp(p->error, "timeout") == 0 &&
	           ++a->probe_failures < HEALTH_TIMEOUTS_FOR_DOWN &&
	           before == UPSTREAM_UP) {
		return;
	} else {
		upstream_mark_down(a, shop_now_ns(), cooldown_ns);
	}
	metrics_gw_upstream_up(a, up);
	if (up && before != UPSTREAM_UP) {
		slog_kv(SLOG_INFO, NULL, "upstream is up",
		        SLOG_S("service", service_name(a->service)),
		        SLOG_S("address", a->name));
	} else if (!up && before != UPSTREAM_DOWN) {
		if (p->status)
			snprintf(why, sizeof(why), "/health answered %d",
			         p->status);
		else
			snprintf(why, sizeof(why), "%s",
			         p->error ? p->error : "timeout");
		slog_kv(SLOG_WARN, NULL, "upstream is down",
		        SLOG_S("service", service_name(a->service)),
		        SLOG_S("address", a->name), SLOG_S("reason", why));
	}
}

void health_probe_round(struct upstream_set *set, unsigned timeout_ms)
{
	struct probe probes[UPSTREAM_MAX_ADDRS];
	struct pollfd pfd[UPSTREAM_MAX_ADDRS];
	size_t n = set->naddrs;
	uint64_t started = shop_now_ns();
	uint64_t deadline = started + (uint64_t)timeout_ms * 1000000u;

	for (size_t i = 0; i < n; i++)
		probe_open(&probes[i], &set->addrs[i]);
	for (;;) {
		size_t open = 0;
		uint64_t now = shop_now_ns();
		int rc;

		for (size_t i = 0; i < n; i++) {
			struct probe *p = &probes[i];

			pfd[i].fd = p->done ? -1 : p->fd;
			pfd[i].events = p->connected && p->sent == p->req_len
			                        ? POLLIN
			                        : POLLOUT | POLLIN;
			pfd[i].revents = 0;
			if (!p->done)
				open++;
		}
		if (open == 0 || now >= deadline)
			break;
		rc = poll(pfd, n, (int)((deadline - now) / 1000000u) + 1);
		if (rc < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < n; i++)
			if (pfd[i].revents && !probes[i].done)
				probe_step(&probes[i], pfd[i].revents);
	}
	for (size_t i = 0; i < n; i++) {
		if (!probes[i].done && !probes[i].status)
			probes[i].error = "timeout";
		if (probes[i].fd >= 0)
			close(probes[i].fd);
		record(&set->addrs[i], &probes[i], set->cooldown_ns, started);
	}
}

static void *prober_main(void *arg)
{
	struct health_prober *hp = arg;
	struct pollfd pfd = {.fd = hp->wake_fd, .events = POLLIN};

	for (;;) {
		health_probe_round(hp->set, hp->timeout_ms);
		atomic_fetch_add(&hp->rounds, 1);
		if (poll(&pfd, 1, (int)hp->interval_ms) > 0)
			break;
	}
	return NULL;
}

int health_prober_start(struct health_prober *hp, struct upstream_set *set,
                        unsigned interval_ms, unsigned timeout_ms)
{
	hp->set = set;
	hp->interval_ms = interval_ms;
	hp->timeout_ms = timeout_ms;
	hp->started = false;
	atomic_init(&hp->rounds, 0);
	hp->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (hp->wake_fd < 0)
		return SHOP_ERR;
	if (set->naddrs == 0)
		return 0;
	if (pthread_create(&hp->thread, NULL, prober_main, hp) != 0) {
		close(hp->wake_fd);
		hp->wake_fd = -1;
		return SHOP_ERR;
	}
	hp->started = true;
	return 0;
}

void health_prober_stop(struct health_prober *hp)
{
	uint64_t one = 1;

	if (hp->started) {
		if (write(hp->wake_fd, &one, sizeof(one)) < 0)
			slog_warn("cannot wake the health prober: %s",
			          strerror(errno));
		pthread_join(hp->thread, NULL);
		hp->started = false;
	}
	if (hp->wake_fd >= 0)
		close(hp->wake_fd);
	hp->wake_fd = -1;
}
