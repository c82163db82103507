#ifndef SHOP_TESTS_SUPPORT_NET_H
#define SHOP_TESTS_SUPPORT_NET_H

/* A loopback TCP port nothing listens on: bound, then closed (fails the
 * current cmocka test if the kernel refuses). */
int support_closed_port(void);

/* A socket listening on a free loopback port (backlog 16), *port set;
 * -1 when the kernel refuses. */
int support_listen_loopback(int *port);

#endif
