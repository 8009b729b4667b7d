/* Whole writes and reads on a descriptor, retried across EINTR and short counts (launcher.c,
 * spawner.c). */
#ifndef E2B_FD_IO_H
#define E2B_FD_IO_H

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

/* 0 once all of it is written; -1 if the descriptor failed first. */
static inline int write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* 0 once all n bytes are read; -1 at EOF or an error before. */
static inline int read_full(int fd, void *data, size_t n) {
    char *p = data;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

#endif
