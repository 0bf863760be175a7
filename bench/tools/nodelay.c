/*
 * LD_PRELOAD shim for the benchmark's "nginx-nodelay" server (bench/fanout.py
 * --servers ...,nginx-nodelay): sets TCP_NODELAY on every accepted socket.
 * nginx-rtmp has no tcp_nodelay directive and leaves Nagle's algorithm on;
 * on loopback that moves part of its sending onto the load tool's CPU (a
 * small segment held back by Nagle goes out when the tool's ACK arrives,
 * in the tool's softirq). This variant shows nginx-rtmp's cost with the
 * sending done in its own process, as Baton does it (Baton sets
 * TCP_NODELAY). Analysis only; not a configuration anyone should deploy.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static int nodelay(int fd)
{
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

int accept4(int s, struct sockaddr *addr, socklen_t *len, int flags)
{
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    if (!real)
        real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
    return nodelay(real(s, addr, len, flags));
}

int accept(int s, struct sockaddr *addr, socklen_t *len)
{
    static int (*real)(int, struct sockaddr *, socklen_t *);
    if (!real)
        real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
    return nodelay(real(s, addr, len));
}
