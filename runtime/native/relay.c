/*
 * The relay between the agent and one command, and the steps that make a forked child the command
 * (see relay.h). Used by both the one-shot e2b-ptyexec and the launcher.
 */
#define _GNU_SOURCE
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* After the command exits, stop waiting for more output after this long without any. A pty needs
 * a moment: the kernel moves slave output to the master asynchronously. Pipes are exact. */
#define PTY_QUIET_MS 50
/* Never drain for longer than this after the command exited (a background job may never stop). */
#define DRAIN_LIMIT_MS 2000

void die(const char *what) {
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
    _exit(126);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void drop_privileges(int have_uid, uid_t uid, int have_gid, gid_t gid, int have_groups,
                     gid_t *groups, size_t ngroups) {
    if (have_groups && setgroups(ngroups, groups) != 0) die("setgroups");
    if (have_gid && setgid(gid) != 0) die("setgid");
    if (have_uid && setuid(uid) != 0) die("setuid");
}

void set_winsize(int fd, unsigned cols, unsigned rows) {
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_col = (unsigned short)cols;
    ws.ws_row = (unsigned short)rows;
    ioctl(fd, TIOCSWINSZ, &ws);
}

/* Reads one chunk into an empty channel buffer. Returns 1 if bytes arrived. */
static int channel_read(struct channel *c) {
    if (c->in_eof || c->len) return 0;
    for (;;) {
        ssize_t n = read(c->in, c->buf, sizeof c->buf);
        if (n > 0) {
            if (c->out_dead) return 1; /* nobody to give it to: dropped */
            c->len = (size_t)n;
            c->off = 0;
            return 1;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        /* 0 = EOF; EIO on a pty master = every slave fd is closed; anything else: treat as EOF. */
        c->in_eof = 1;
        if (c->close_out && c->out >= 0) {
            close(c->out);
            c->out = -1;
            c->out_dead = 1;
        }
        return 0;
    }
}

/* Writes as much buffered data as the destination takes without blocking. */
static void channel_write(struct channel *c) {
    while (c->len) {
        if (c->out_dead) {
            c->len = 0;
            return;
        }
        ssize_t n = write(c->out, c->buf + c->off, c->len);
        if (n > 0) {
            c->off += (size_t)n;
            c->len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        c->out_dead = 1; /* EPIPE and friends: the reader went away */
        c->len = 0;
    }
}

/* Waits (without a time limit) until the destination took everything buffered: output must not be
 * lost, and the agent applies backpressure by not reading. */
static void channel_flush(struct channel *c) {
    channel_write(c);
    while (c->len && !c->out_dead) {
        struct pollfd p = {.fd = c->out, .events = POLLOUT};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) {
            c->out_dead = 1;
            c->len = 0;
            return;
        }
        channel_write(c);
    }
}

/* Control lines from the agent: "cols rows\n". */
static void handle_control(int fd, int *eof, int master) {
    static char line[256];
    static size_t used;
    char tmp[256];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
        *eof = 1;
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (tmp[i] != '\n') {
            if (used < sizeof line - 1) line[used++] = tmp[i];
            continue;
        }
        line[used] = 0;
        used = 0;
        unsigned cols, rows;
        if (sscanf(line, "%u %u", &cols, &rows) == 2 && cols > 0 && rows > 0 && cols <= 65535 &&
            rows <= 65535)
            set_winsize(master, cols, rows);
    }
}

static int command_gone(int pidfd, pid_t cmd_pid) {
    if (pidfd >= 0) {
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        return poll(&p, 1, 0) > 0;
    }
    /* Without pidfd (kernel < 5.3): the command is gone once it is no longer a live process. The
     * agent reaps it quickly, so kill(0) turns into ESRCH; a zombie also counts as gone. */
    if (kill(cmd_pid, 0) != 0 && errno == ESRCH) return 1;
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)cmd_pid);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    char buf[512];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (p && p[1] == ' ') state = p[2];
    return state == 'Z' || state == 'X';
}

void relay(struct channel *chans, int nchans, int control_fd, int master, int pidfd, pid_t cmd_pid,
           int pty_mode) {
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTSTP, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    for (int i = 0; i < nchans; i++) {
        set_nonblock(chans[i].in);
        set_nonblock(chans[i].out);
    }
    int control_eof = control_fd < 0;
    if (!control_eof) set_nonblock(control_fd);

    /* Phase 1: relay both ways while the command runs. */
    for (;;) {
        struct pollfd pfds[16];
        int idx[16], kinds[16], n = 0; /* kind 0: channel in, 1: channel out, 2: control, 3: pidfd */
        for (int i = 0; i < nchans; i++) {
            struct channel *c = &chans[i];
            if (c->len && !c->out_dead) {
                pfds[n] = (struct pollfd){.fd = c->out, .events = POLLOUT};
                idx[n] = i;
                kinds[n++] = 1;
            } else if (!c->in_eof) {
                pfds[n] = (struct pollfd){.fd = c->in, .events = POLLIN};
                idx[n] = i;
                kinds[n++] = 0;
            }
        }
        if (!control_eof) {
            pfds[n] = (struct pollfd){.fd = control_fd, .events = POLLIN};
            kinds[n++] = 2;
        }
        if (pidfd >= 0) {
            pfds[n] = (struct pollfd){.fd = pidfd, .events = POLLIN};
            kinds[n++] = 3;
        }
        int r = poll(pfds, n, pidfd >= 0 ? -1 : 100);
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        int gone = 0;
        for (int k = 0; k < n; k++) {
            if (!pfds[k].revents) continue;
            if (kinds[k] == 0) {
                if (channel_read(&chans[idx[k]])) channel_write(&chans[idx[k]]);
            } else if (kinds[k] == 1) {
                channel_write(&chans[idx[k]]);
            } else if (kinds[k] == 2) {
                handle_control(control_fd, &control_eof, master);
            } else {
                gone = 1;
            }
        }
        if (gone || (pidfd < 0 && command_gone(pidfd, cmd_pid))) break;
    }

    /* Phase 2: the command exited. Pass on what it (or its background jobs) already wrote. */
    long long deadline = now_ms() + DRAIN_LIMIT_MS;
    for (int i = 0; i < nchans; i++)
        if (chans[i].is_output) channel_flush(&chans[i]);
    for (;;) {
        struct pollfd pfds[8];
        int idx[8], n = 0;
        for (int i = 0; i < nchans; i++) {
            if (!chans[i].is_output || chans[i].in_eof) continue;
            pfds[n] = (struct pollfd){.fd = chans[i].in, .events = POLLIN};
            idx[n++] = i;
        }
        if (n == 0) break;
        long long left = deadline - now_ms();
        if (left <= 0) break;
        int wait = pty_mode ? PTY_QUIET_MS : 0;
        if (wait > left) wait = (int)left;
        int r = poll(pfds, n, wait);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break; /* quiet: nothing more is coming right now */
        for (int k = 0; k < n; k++) {
            if (!pfds[k].revents) continue;
            struct channel *c = &chans[idx[k]];
            if (channel_read(c)) channel_flush(c);
        }
    }
    }

int open_pty(unsigned cols, unsigned rows) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return -1;
    if (grantpt(master) != 0 || unlockpt(master) != 0) {
        int err = errno;
        close(master);
        errno = err;
        return -1;
    }
    set_winsize(master, cols, rows);
    return master;
}

void attach_pty_slave(int master) {
    /* The command leads its own session (the agent or launcher made it so); when run by hand, try. */
    if (getsid(0) != getpid()) setsid();
    const char *name = ptsname(master);
    if (!name) die("ptsname");
    int slave = open(name, O_RDWR);
    if (slave < 0) die("open pty slave");
    ioctl(slave, TIOCSCTTY, 0);
    for (int fd = 0; fd <= 2; fd++)
        if (dup2(slave, fd) < 0) die("dup2");
    if (slave > 2) close(slave);
    close(master);
}

void exec_command(char **cmd) {
    /* Only 0/1/2 belong to the command; anything else the parent leaked stays behind. */
    syscall(SYS_close_range, 3, ~0U, 0);
    execvp(cmd[0], cmd);
    int err = errno;
    fprintf(stderr, "%s: %s: %s\n", prog, cmd[0], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
}
