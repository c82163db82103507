#include "upstream_pool.h"

#include "metrics_gw.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum uc_state {
	UC_FREE,       /* on the free-list */
	UC_CLOSED,     /* closed during this batch of events; freed after */
	UC_CONNECTING, /* connect() in progress */
	UC_ACTIVE,     /* carrying ex */
	UC_IDLE,       /* on its address's idle stack */
};

enum uc_list_id { L_NONE, L_IDLE, L_CONNECTING, L_WAITING };

struct upconn {
	enum ev_tag tag; /* EV_UPCONN; must stay first */
	enum uc_state state;
	int fd;
	size_t addr;
	struct exchange *ex;
	bool reused;
	enum uc_list_id list;
	struct upconn *prev, *next;
	uint64_t deadline;
};

struct uc_list {
	struct upconn *head, *tail;
	size_t n;
};

struct upstream_pool {
	struct upstream_set *set;
	int epfd;
	uint64_t connect_timeout_ns;
	uint64_t response_timeout_ns;
	uint64_t idle_timeout_ns;
	size_t max_idle;
	size_t max_response;
	struct upconn *free;       /* singly linked through next */
	struct upconn *closed;     /* likewise; become free at the next batch */
	struct uc_list connecting; /* ordered by deadline: same timeout each */
	struct uc_list waiting;
	size_t nactive;
	size_t nidle;
	unsigned rr[SVC_COUNT];
	struct uc_list idle[UPSTREAM_MAX_ADDRS];
};

#define READ_CHUNK 16384

/* ---- lists ---- */

static struct uc_list *list_of(struct upstream_pool *pool, struct upconn *c)
{
	switch (c->list) {
	case L_IDLE:
		return &pool->idle[c->addr];
	case L_CONNECTING:
		return &pool->connecting;
	case L_WAITING:
		return &pool->waiting;
	default:
		return NULL;
	}
}

static void list_unlink(struct upstream_pool *pool, struct upconn *c)
{
	struct uc_list *l = list_of(pool, c);

	if (!l)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	l->n--;
	if (c->list == L_IDLE)
		pool->nidle--;
	c->prev = c->next = NULL;
	c->list = L_NONE;
}

static void list_append(struct upstream_pool *pool, struct upconn *c,
                        enum uc_list_id id)
{
	struct uc_list *l;

	list_unlink(pool, c);
	c->list = id;
	l = list_of(pool, c);
	c->prev = l->tail;
	c->next = NULL;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->n++;
}

/* Newest first: dispatch() takes the head, expiry closes from the tail. */
static void idle_push(struct upstream_pool *pool, struct upconn *c)
{
	struct uc_list *l;

	list_unlink(pool, c);
	c->list = L_IDLE;
	c->deadline = shop_now_ns() + pool->idle_timeout_ns;
	l = &pool->idle[c->addr];
	c->prev = NULL;
	c->next = l->head;
	if (l->head)
		l->head->prev = c;
	else
		l->tail = c;
	l->head = c;
	l->n++;
	pool->nidle++;
}

/* ---- connection objects ---- */

static struct upconn *conn_get(struct upstream_pool *pool)
{
	struct upconn *c = pool->free;

	if (c) {
		pool->free = c->next;
	} else {
		c = malloc(sizeof(*c));
		if (!c)
			return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->tag = EV_UPCONN;
	c->fd = -1;
	return c;
}

/* Closes the socket; the struct is recycled after this batch of events,
 * since an event for it may still be waiting in the batch. */
static void conn_close(struct upstream_pool *pool, struct upconn *c)
{
	list_unlink(pool, c);
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->ex = NULL;
	c->state = UC_CLOSED;
	c->next = pool->closed;
	pool->closed = c;
}

static void recycle_closed(struct upstream_pool *pool)
{
	while (pool->closed) {
		struct upconn *c = pool->closed;

		pool->closed = c->next;
		c->state = UC_FREE;
		c->next = pool->free;
		pool->free = c;
	}
}

/* ---- pool ---- */

struct upstream_pool *upstream_pool_new(struct upstream_set *set, int epfd,
                                        unsigned connect_timeout_ms,
                                        unsigned response_timeout_ms,
                                        unsigned idle_timeout_ms,
                                        size_t max_idle, size_t max_response)
{
	struct upstream_pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	pool->set = set;
	pool->epfd = epfd;
	pool->connect_timeout_ns = (uint64_t)connect_timeout_ms * 1000000u;
	pool->response_timeout_ns = (uint64_t)response_timeout_ms * 1000000u;
	pool->idle_timeout_ns = (uint64_t)idle_timeout_ms * 1000000u;
	pool->max_idle = max_idle;
	pool->max_response = max_response;
	return pool;
}

static void free_chain(struct upconn *c)
{
	while (c) {
		struct upconn *next = c->next;

		free(c);
		c = next;
	}
}

void upstream_pool_free(struct upstream_pool *pool)
{
	if (!pool)
		return;
	for (size_t i = 0; i < UPSTREAM_MAX_ADDRS; i++)
		while (pool->idle[i].head)
			conn_close(pool, pool->idle[i].head);
	while (pool->connecting.head)
		conn_close(pool, pool->connecting.head);
	while (pool->waiting.head)
		conn_close(pool, pool->waiting.head);
	recycle_closed(pool);
	free_chain(pool->free);
	free(pool);
}

size_t upstream_pool_active(const struct upstream_pool *pool)
{
	return pool->nactive;
}

size_t upstream_pool_idle(const struct upstream_pool *pool)
{
	return pool->nidle;
}

const char *upstream_error_name(int err)
{
	switch (err) {
	case UPSTREAM_OK:
		return "ok";
	case UPSTREAM_EUNAVAIL:
		return "unavailable";
	case UPSTREAM_EREFUSED:
		return "connect_refused";
	case UPSTREAM_ECONNECT_TIMEOUT:
		return "connect_timeout";
	case UPSTREAM_ETIMEOUT:
		return "response_timeout";
	case UPSTREAM_ERESET:
		return "reset";
	case UPSTREAM_EBADRESP:
		return "bad_response";
	case UPSTREAM_ETOOBIG:
		return "response_too_large";
	case UPSTREAM_ESYS:
		return "local_error";
	case UPSTREAM_ECANCELLED:
		return "cancelled";
	default:
		return "unknown";
	}
}

/* Round-robin over the usable addresses of a service, a down one taking
 * its turn when its trial is due (*trial is then true); -1 when none. */
static long pick_addr(struct upstream_pool *pool, enum service_id svc,
                      bool *trial)
{
	struct upstream_set *set = pool->set;
	size_t first = set->services[svc].first;
	size_t count = set->services[svc].count;
	uint64_t now = 0;

	*trial = false;
	for (size_t i = 0; i < count; i++) {
		size_t k = first + (pool->rr[svc]++ % count);
		struct upstream_addr *a = &set->addrs[k];

		if (upstream_usable(a))
			return (long)k;
		if (!now)
			now = shop_now_ns();
		if (upstream_claim_trial(a, now, set->cooldown_ns)) {
			*trial = true;
			return (long)k;
		}
	}
	return -1;
}

/* True when an address of a's service other than a is usable. */
static bool other_usable(const struct upstream_pool *pool,
                         const struct upstream_addr *a)
{
	const struct upstream_set *set = pool->set;
	size_t first = set->services[a->service].first;
	size_t count = set->services[a->service].count;

	for (size_t k = first; k < first + count; k++)
		if (&set->addrs[k] != a && upstream_usable(&set->addrs[k]))
			return true;
	return false;
}

/* Passive health: what a worker saw marks the address down. */
static void mark_down(struct upstream_pool *pool, struct upstream_addr *a,
                      const char *why)
{
	if (!upstream_mark_down(a, shop_now_ns(), pool->set->cooldown_ns))
		return;
	metrics_gw_upstream_up(a, 0);
	slog_kv(SLOG_WARN, NULL, "upstream is down",
	        SLOG_S("service", service_name(a->service)),
	        SLOG_S("address", a->name), SLOG_S("reason", why));
}

/* ---- exchange ---- */

static size_t request_len(const struct exchange *ex)
{
	return ex->head->len + (ex->body ? ex->body->len : 0);
}

/* Writes what is left of the request. Returns 0 (all written, or the rest
 * waits for EPOLLOUT) or a negative errno. */
static int send_request(struct upconn *c)
{
	struct exchange *ex = c->ex;
	struct iovec iov[2];
	struct msghdr msg = {0};
	size_t total = request_len(ex);

	while (ex->sent < total) {
		size_t hl = ex->head->len;
		int n = 0;
		ssize_t w;

		if (ex->sent < hl) {
			iov[n].iov_base = ex->head->data + ex->sent;
			iov[n].iov_len = hl - ex->sent;
			n++;
			if (ex->body && ex->body->len) {
				iov[n].iov_base = ex->body->data;
				iov[n].iov_len = ex->body->len;
				n++;
			}
		} else {
			iov[n].iov_base = ex->body->data + (ex->sent - hl);
			iov[n].iov_len = total - ex->sent;
			n++;
		}
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)n;
		w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		ex->sent += (size_t)w;
	}
	return 0;
}

static void exchange_reset_response(struct exchange *ex,
                                    const struct upstream_pool *pool)
{
	ex->resp.len = 0;
	resp_parser_init(&ex->parser, pool->max_response, ex->no_body);
}

static void attach(struct upstream_pool *pool, struct upconn *c,
                   struct exchange *ex)
{
	c->ex = ex;
	ex->conn = c;
	ex->addr = &pool->set->addrs[c->addr];
}

static void arm_response_timer(struct upstream_pool *pool, struct upconn *c)
{
	c->deadline = shop_now_ns() + pool->response_timeout_ns;
	list_append(pool, c, L_WAITING);
}

/* Opens a socket to addr k. Returns 0 with *out set (connecting, or
 * connected and the request written), or an upstream_error; a refused
 * connection marks the address down. */
static int connect_new(struct upstream_pool *pool, struct exchange *ex,
                       size_t k, struct upconn **out)
{
	struct upstream_addr *a = &pool->set->addrs[k];
	struct epoll_event ev;
	struct upconn *c;
	int one = 1, fd, rc;

	c = conn_get(pool);
	if (!c)
		return UPSTREAM_ESYS;
	fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd < 0) {
		slog_warn("cannot create a socket for '%s': %s", a->name,
		          strerror(errno));
		c->state = UC_CLOSED;
		c->next = pool->closed;
		pool->closed = c;
		return UPSTREAM_ESYS;
	}
	c->fd = fd;
	c->addr = k;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rc = connect(fd, (const struct sockaddr *)&a->sa, a->salen);
	if (rc < 0 && errno != EINPROGRESS) {
		int err = errno;

		conn_close(pool, c);
		if (err == ECONNREFUSED || err == ENETUNREACH ||
		    err == EHOSTUNREACH) {
			mark_down(pool, a, strerror(err));
			return UPSTREAM_EREFUSED;
		}
		slog_warn("cannot connect to '%s': %s", a->name, strerror(err));
		return UPSTREAM_ESYS;
	}
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(pool->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		slog_warn("cannot watch the socket to '%s': %s", a->name,
		          strerror(errno));
		conn_close(pool, c);
		return UPSTREAM_ESYS;
	}
	attach(pool, c, ex);
	if (rc < 0) {
		c->state = UC_CONNECTING;
		c->deadline = shop_now_ns() + pool->connect_timeout_ns;
		list_append(pool, c, L_CONNECTING);
	} else {
		c->state = UC_ACTIVE;
		arm_response_timer(pool, c);
		rc = send_request(c);
		if (rc < 0) {
			conn_close(pool, c);
			ex->conn = NULL;
			return UPSTREAM_ERESET;
		}
	}
	*out = c;
	return 0;
}

/*
 * Finds a socket for ex and sends it (or starts connecting). fresh skips
 * the idle sockets (a retry). Returns 0 or an upstream_error.
 */
static int dispatch(struct upstream_pool *pool, struct exchange *ex, bool fresh)
{
	size_t limit = pool->set->services[ex->service].count + 4;

	while (ex->attempts++ < limit) {
		long k = pick_addr(pool, ex->service, &ex->trial);
		struct upconn *c;
		int rc;

		if (k < 0)
			return ex->last_error ? ex->last_error
			                      : UPSTREAM_EUNAVAIL;
		ex->addr = &pool->set->addrs[k];
		if (!fresh && !ex->trial && pool->idle[k].head) {
			c = pool->idle[k].head;
			list_unlink(pool, c);
			c->state = UC_ACTIVE;
			c->reused = true;
			attach(pool, c, ex);
			arm_response_timer(pool, c);
			if (send_request(c) == 0)
				return 0;
			/* the upstream closed it while idle: the request
			 * did not get through whole, so it cannot have been
			 * processed and may go on another socket */
			conn_close(pool, c);
			ex->conn = NULL;
			ex->sent = 0;
			continue;
		}
		c = NULL;
		rc = connect_new(pool, ex, (size_t)k, &c);
		if (rc == 0)
			return 0;
		ex->last_error = rc;
		if (rc != UPSTREAM_EREFUSED)
			return rc;
	}
	return ex->last_error ? ex->last_error : UPSTREAM_EUNAVAIL;
}

int upstream_pool_start(struct upstream_pool *pool, struct exchange *ex)
{
	int rc;

	ex->result = UPSTREAM_OK;
	ex->addr = NULL;
	ex->retried = false;
	ex->conn = NULL;
	ex->sent = 0;
	ex->attempts = 0;
	ex->last_error = 0;
	ex->trial = false;
	exchange_reset_response(ex, pool);
	if (pool->set->services[ex->service].count == 0)
		return UPSTREAM_EUNAVAIL;
	rc = dispatch(pool, ex, false);
	if (rc == 0)
		pool->nactive++;
	return rc;
}

static void complete(struct upstream_pool *pool, struct exchange *ex,
                     int result)
{
	ex->result = result;
	ex->conn = NULL;
	pool->nactive--;
	ex->done(ex);
}

/* The response is whole: keep the socket if it can carry another one. */
static void finish(struct upstream_pool *pool, struct upconn *c,
                   uint32_t events)
{
	struct exchange *ex = c->ex;
	struct upstream_addr *a = &pool->set->addrs[c->addr];

	c->ex = NULL;
	/* a down address answered its trial: it is back */
	if (ex->trial && upstream_mark_up(a)) {
		metrics_gw_upstream_up(a, 1);
		slog_kv(SLOG_INFO, NULL, "upstream is up",
		        SLOG_S("service", service_name(a->service)),
		        SLOG_S("address", a->name),
		        SLOG_S("reason", "answered after its cool-down"));
	}
	/* an early answer (say a 413) before the whole request went out
	 * leaves the rest of the request unsent: not reusable */
	if (ex->parser.keep_alive && ex->sent == request_len(ex) &&
	    !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
	    pool->idle[c->addr].n < pool->max_idle) {
		c->state = UC_IDLE;
		idle_push(pool, c);
	} else {
		conn_close(pool, c);
	}
	complete(pool, ex, UPSTREAM_OK);
}

/* The socket failed under ex with err. A new connection closed or reset
 * before any byte of an answer marks its address down, unless no other
 * address of the service is usable: the upstream may have died, or just
 * dropped this one request (a lone upstream stays in use, as a refusal
 * will tell the first case soon enough). A kept-alive socket may have met
 * the upstream's idle timeout: that marks nothing. Either way, before any
 * answer, a request that may be sent again (idempotent, or nothing of it
 * sent) is retried once on a fresh socket, which the mark sends to another
 * address; otherwise ex completes with err. */
static void fail(struct upstream_pool *pool, struct upconn *c, int err)
{
	struct exchange *ex = c->ex;
	struct upstream_addr *a = &pool->set->addrs[c->addr];
	bool reused = c->reused;
	bool answered = resp_parser_started(&ex->parser, &ex->resp);
	int rc;

	conn_close(pool, c);
	ex->conn = NULL;
	if (err == UPSTREAM_ERESET && !answered && !reused &&
	    other_usable(pool, a))
		mark_down(pool, a, "closed the connection before answering");
	if (err == UPSTREAM_ERESET && !answered && !ex->retried &&
	    (ex->idempotent || ex->sent == 0)) {
		ex->retried = true;
		ex->sent = 0;
		ex->attempts = 0;
		ex->last_error = err; /* the answer when no address is left */
		exchange_reset_response(ex, pool);
		rc = dispatch(pool, ex, true);
		if (rc == 0)
			return;
		err = rc;
	}
	complete(pool, ex, err);
}

/* A new socket could not connect (err: errno, or ETIMEDOUT): the address
 * is marked down and, the request not being sent yet, another address is
 * tried whatever the method. */
static void connect_failed(struct upstream_pool *pool, struct upconn *c,
                           int err)
{
	struct exchange *ex = c->ex;
	struct upstream_addr *a = &pool->set->addrs[c->addr];
	int rc;

	mark_down(pool, a,
	          err == ETIMEDOUT ? "connect timeout" : strerror(err));
	conn_close(pool, c);
	ex->conn = NULL;
	ex->last_error = err == ETIMEDOUT ? UPSTREAM_ECONNECT_TIMEOUT
	                                  : UPSTREAM_EREFUSED;
	slog_debug("cannot connect to '%s': %s", a->name, strerror(err));
	rc = dispatch(pool, ex, ex->retried);
	if (rc == 0)
		return;
	complete(pool, ex, rc);
}

static void read_response(struct upstream_pool *pool, struct upconn *c,
                          uint32_t events)
{
	struct exchange *ex = c->ex;
	struct gbuf *b = &ex->resp;

	for (;;) {
		size_t room;
		ssize_t n;
		int rc;

		if (b->cap - b->len < READ_CHUNK / 4 &&
		    gbuf_reserve(b, READ_CHUNK) < 0) {
			fail(pool, c, UPSTREAM_ESYS);
			return;
		}
		room = b->cap - b->len;
		n = recv(c->fd, b->data + b->len, room, 0);
		if (n > 0) {
			b->len += (size_t)n;
			rc = resp_parser_feed(&ex->parser, b);
		} else if (n == 0) {
			if (!resp_parser_started(&ex->parser, b)) {
				fail(pool, c, UPSTREAM_ERESET);
				return;
			}
			rc = resp_parser_eof(&ex->parser, b);
			if (rc == RESP_PARSE_EBAD) {
				fail(pool, c, UPSTREAM_ERESET);
				return;
			}
			events |= EPOLLRDHUP;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		} else {
			fail(pool, c, UPSTREAM_ERESET);
			return;
		}
		if (rc == RESP_PARSE_DONE) {
			finish(pool, c, events);
			return;
		}
		if (rc == RESP_PARSE_EBAD) {
			fail(pool, c, UPSTREAM_EBADRESP);
			return;
		}
		if (rc == RESP_PARSE_ETOOBIG) {
			fail(pool, c, UPSTREAM_ETOOBIG);
			return;
		}
		/* Edge-triggered: a short read drained the socket, and new
		 * bytes will raise a new edge, unless the peer's close was
		 * already reported with this one. */
		if ((size_t)n < room &&
		    !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			return;
	}
}

void upstream_pool_event(struct upstream_pool *pool, void *ptr, uint32_t events)
{
	struct upconn *c = ptr;
	int err = 0;
	socklen_t len = sizeof(err);

	switch (c->state) {
	case UC_CONNECTING:
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == 0 && (events & (EPOLLERR | EPOLLHUP)))
			err = ECONNREFUSED;
		if (err) {
			connect_failed(pool, c, err);
			return;
		}
		c->state = UC_ACTIVE;
		arm_response_timer(pool, c);
		err = send_request(c);
		if (err < 0) {
			fail(pool, c, UPSTREAM_ERESET);
			return;
		}
		if (events & (EPOLLIN | EPOLLRDHUP))
			read_response(pool, c, events);
		return;
	case UC_ACTIVE:
		if ((events & EPOLLOUT) && c->ex->sent < request_len(c->ex)) {
			err = send_request(c);
			if (err < 0) {
				fail(pool, c, UPSTREAM_ERESET);
				return;
			}
		}
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			read_response(pool, c, events);
		return;
	case UC_IDLE:
		/* the upstream closed it, or sent what nobody asked for */
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			conn_close(pool, c);
		return;
	default:
		return; /* closed earlier in this batch */
	}
}

void upstream_pool_expire(struct upstream_pool *pool, uint64_t now_ns)
{
	recycle_closed(pool);
	while (pool->connecting.head &&
	       pool->connecting.head->deadline <= now_ns)
		connect_failed(pool, pool->connecting.head, ETIMEDOUT);
	while (pool->waiting.head && pool->waiting.head->deadline <= now_ns) {
		struct upconn *c = pool->waiting.head;
		struct exchange *ex = c->ex;

		conn_close(pool, c);
		complete(pool, ex, UPSTREAM_ETIMEOUT);
	}
	for (size_t i = 0; i < pool->set->naddrs; i++)
		while (pool->idle[i].tail &&
		       pool->idle[i].tail->deadline <= now_ns)
			conn_close(pool, pool->idle[i].tail);
}

uint64_t upstream_pool_next_deadline(const struct upstream_pool *pool)
{
	uint64_t d = UINT64_MAX;

	if (pool->connecting.head)
		d = pool->connecting.head->deadline;
	if (pool->waiting.head && pool->waiting.head->deadline < d)
		d = pool->waiting.head->deadline;
	for (size_t i = 0; i < pool->set->naddrs; i++)
		if (pool->idle[i].tail && pool->idle[i].tail->deadline < d)
			d = pool->idle[i].tail->deadline;
	return d;
}

void upstream_pool_cancel(struct upstream_pool *pool, struct exchange *ex)
{
	if (!ex->conn)
		return;
	conn_close(pool, ex->conn);
	ex->conn = NULL;
	pool->nactive--;
}
