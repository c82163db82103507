#ifndef GATEWAY_WORKER_H
#define GATEWAY_WORKER_H

#include "gateway.h"

/*
 * A worker thread: one libmicrohttpd daemon without a thread of its own,
 * listening on the shared port (SO_REUSEPORT), and one epoll loop that
 * holds the daemon's epoll fd and this worker's upstream sockets. Requests
 * are handled entirely on this thread; nothing in it blocks.
 */
struct worker;

/*
 * Creates worker index of nworkers: binds its listening socket and sets up
 * its loop. gw is borrowed and must outlive the worker. Returns NULL after
 * logging why.
 */
struct worker *worker_new(const struct gateway *gw, unsigned index,
                          unsigned nworkers);

/* Runs the worker on a new thread. Returns 0 or SHOP_ERR. */
int worker_start(struct worker *w);

/*
 * Asks the worker to stop: it stops accepting, finishes the requests in
 * flight (for at most GATEWAY_SHUTDOWN_TIMEOUT_MS, then answers 503 to what
 * is left), and its thread ends. Async-signal-safe and thread-safe.
 */
void worker_stop(struct worker *w);

/* Waits for the thread to end. */
void worker_join(struct worker *w);

/* Frees a stopped (or never started) worker. Accepts NULL. */
void worker_free(struct worker *w);

#endif
