/*
 * e2b-ptyexec: starts one command for the sandbox agent with a real terminal or real pipes.
 *
 *   e2b-ptyexec [--uid N] [--gid N] [--groups G1,G2,...] <cols> <rows> <cmd> [args...]
 *   e2b-ptyexec [--uid N] [--gid N] [--groups G1,G2,...] --pipes <cmd> [args...]
 *
 * Why it exists: Node cannot open a pseudo-terminal, and the stdio "pipes" Node gives a child are
 * UNIX sockets, on which `echo hi > /dev/stdout` fails with ENXIO. This helper puts a pty (first
 * form) or real pipes (second form, for every stdio fd that is a socket) between the agent and the
 * command, and relays bytes.
 *
 * Shape: this process becomes the command itself (it execs it), so the pid the agent sees, the exit
 * status and the signals it sends all belong to the real command. Before exec it forks a relay
 * (double fork, so the relay is not a child the command could wait() on). The relay owns the pty
 * master / pipe ends and the agent's sockets, watches the command through a pidfd, and when the
 * command has exited drains what is left and exits, which closes the agent's sockets: the agent
 * then knows all output has arrived, even if background jobs still hold the terminal or pipes.
 *
 * In pty mode fd 3 is a control channel from the agent: text lines "cols rows\n" resize the
 * terminal (the kernel then sends SIGWINCH to the foreground process group).
 *
 * The launcher mode (launcher.c) stays up for the sandbox's life and starts commands on the agent's
 * request with this same relay, so the agent need not fork itself per command:
 *
 *   e2b-ptyexec --launcher
 *
 * Two more modes serve the agent's filesystem service, for what Node cannot do itself (no xattr
 * API; fs.watch reports only "rename"/"change", not which change it was):
 *
 *   e2b-ptyexec --fs-server
 *   e2b-ptyexec --watch [--recursive] <dir>
 *
 * (see "Filesystem modes" below for their protocols).
 *
 * Build: gcc -O2 -static -o e2b-ptyexec ptyexec.c relay.c launcher.c
 */
#define _GNU_SOURCE
#include "launcher.h"
#include "relay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <stdint.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define CONTROL_FD 3

const char *prog = "e2b-ptyexec";

static void usage(void) {
    fprintf(stderr,
            "usage: %s [--uid N] [--gid N] [--groups G1,G2] <cols> <rows> <cmd> [args...]\n"
            "       %s [--uid N] [--gid N] [--groups G1,G2] --pipes <cmd> [args...]\n"
            "       %s --launcher\n"
            "       %s --fs-server\n"
            "       %s --watch [--recursive] <dir>\n",
            prog, prog, prog, prog, prog);
    _exit(126);
}

static long parse_num(const char *s, long max) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > max) usage();
    return v;
}

static int is_socket(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}


/* ============================================================================================
 * Filesystem modes
 *
 * --fs-server: requests on stdin, answers on stdout, strictly in order. Request fields each end
 * with a NUL byte:
 *   "G" <path>                                  → one line "<key hex> <value hex>\n" per user.e2b.*
 *                                                 xattr (prefix stripped), then ".\n". Errors
 *                                                 (missing file, no xattr support) give just ".\n".
 *   "S" <path> <count> (<key> <value>)×count    → "ok\n" or "err <errno>\n". Replaces the file's
 *                                                 whole user.e2b.* set with the given one.
 * Both follow symlinks. The server exits at EOF on stdin.
 *
 * --watch [--recursive] <dir>: reports inotify events as fsnotify (upstream envd's watcher) does.
 * Records on stdout, each ended by a NUL byte:
 *   "S"              the watches are in place (events from now on are reported)
 *   "<ops>:<path>"   one event; ops OR-ed: 1 create, 2 write, 4 remove, 8 rename, 16 chmod
 *   "E<message>"     fatal error (e.g. the event queue overflowed); the helper then exits
 * Recursive: new directories (created or moved in) are watched at once and everything already
 * inside them is reported as created, so `mkdir -p a/b && touch a/b/f` loses nothing. Exits when
 * stdin reaches EOF (the agent closed it or went away).
 * ============================================================================================ */

#define XATTR_PREFIX "user.e2b."
#define XATTR_PREFIX_LEN (sizeof XATTR_PREFIX - 1)

/* One NUL-terminated field from stdin, in a buffer the next call reuses; NULL at EOF. */
static char *read_field(void) {
    static char *buf = NULL;
    static size_t cap = 0;
    ssize_t n = getdelim(&buf, &cap, '\0', stdin);
    if (n <= 0 || buf[n - 1] != '\0') return NULL;
    return buf;
}

static char *read_field_copy(void) {
    char *f = read_field();
    return f ? strdup(f) : NULL;
}

static void put_hex(const unsigned char *p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        putchar(digits[p[i] >> 4]);
        putchar(digits[p[i] & 15]);
    }
}

/* The NUL-separated names of path's xattrs; NULL on error (errno set). */
static char *list_xattrs(const char *path, ssize_t *len) {
    for (int attempt = 0; attempt < 8; attempt++) {
        ssize_t size = listxattr(path, NULL, 0);
        if (size < 0) return NULL;
        char *names = malloc(size > 0 ? (size_t)size : 1);
        if (!names) return NULL;
        ssize_t got = size > 0 ? listxattr(path, names, (size_t)size) : 0;
        if (got >= 0) {
            *len = got;
            return names;
        }
        int err = errno;
        free(names);
        if (err != ERANGE) { /* ERANGE: the list grew in between; ask again */
            errno = err;
            return NULL;
        }
    }
    errno = ERANGE;
    return NULL;
}

static void xattr_get(const char *path) {
    ssize_t len = 0;
    char *names = list_xattrs(path, &len);
    for (char *name = names; names && name < names + len; name += strlen(name) + 1) {
        if (strncmp(name, XATTR_PREFIX, XATTR_PREFIX_LEN) != 0) continue;
        ssize_t size = getxattr(path, name, NULL, 0);
        if (size < 0) continue;
        unsigned char *value = malloc(size > 0 ? (size_t)size : 1);
        if (!value) continue;
        ssize_t got = size > 0 ? getxattr(path, name, value, (size_t)size) : 0;
        if (got >= 0) {
            put_hex((const unsigned char *)name + XATTR_PREFIX_LEN, strlen(name) - XATTR_PREFIX_LEN);
            putchar(' ');
            put_hex(value, (size_t)got);
            putchar('\n');
        }
        free(value);
    }
    free(names);
    fputs(".\n", stdout);
}

/* Returns 0 or an errno. */
static int xattr_replace(const char *path, char **keys, char **values, long count) {
    ssize_t len = 0;
    char *names = list_xattrs(path, &len);
    if (!names) return errno;
    for (char *name = names; name < names + len; name += strlen(name) + 1) {
        if (strncmp(name, XATTR_PREFIX, XATTR_PREFIX_LEN) != 0) continue;
        int keep = 0;
        for (long k = 0; k < count && !keep; k++) keep = strcmp(name + XATTR_PREFIX_LEN, keys[k]) == 0;
        if (!keep && removexattr(path, name) != 0 && errno != ENODATA) {
            int err = errno;
            free(names);
            return err;
        }
    }
    free(names);
    char full[256];
    for (long k = 0; k < count; k++) {
        if (snprintf(full, sizeof full, "%s%s", XATTR_PREFIX, keys[k]) >= (int)sizeof full) return ERANGE;
        if (setxattr(path, full, values[k], strlen(values[k]), 0) != 0) return errno;
    }
    return 0;
}

static int fs_server(void) {
    signal(SIGPIPE, SIG_DFL);
    char *op;
    while ((op = read_field()) != NULL) {
        char kind = op[0];
        char *path = read_field_copy();
        if (!path) break;
        if (kind == 'G') {
            xattr_get(path);
        } else if (kind == 'S') {
            char *count_field = read_field();
            long count = count_field ? strtol(count_field, NULL, 10) : -1;
            if (count < 0 || count > 4096) return 2; /* out of step with the agent: give up */
            char **keys = calloc((size_t)count + 1, sizeof *keys);
            char **values = calloc((size_t)count + 1, sizeof *values);
            if (!keys || !values) return 2;
            for (long k = 0; k < count; k++) {
                keys[k] = read_field_copy();
                values[k] = read_field_copy();
                if (!keys[k] || !values[k]) return 2;
            }
            int err = xattr_replace(path, keys, values, count);
            if (err) printf("err %d\n", err);
            else fputs("ok\n", stdout);
            for (long k = 0; k < count; k++) {
                free(keys[k]);
                free(values[k]);
            }
            free(keys);
            free(values);
        } else {
            return 2;
        }
        free(path);
        fflush(stdout);
    }
    return 0;
}

#define OP_CREATE 1
#define OP_WRITE 2
#define OP_REMOVE 4
#define OP_RENAME 8
#define OP_CHMOD 16
#define WATCH_EVENTS (IN_CREATE | IN_MODIFY | IN_DELETE | IN_DELETE_SELF | IN_MOVED_FROM | IN_MOVED_TO | IN_MOVE_SELF | IN_ATTRIB)
#define RENAME_COOKIES 10

struct watch {
    char *path; /* NULL: slot unused */
    int root;
    dev_t dev;
    ino_t ino;
};

static struct watch *watches;
static size_t watches_cap;
static int inotify_fd = -1;
static int watch_recursive;
/* MOVED_FROM → MOVED_TO pairs, to carry the watches of a directory renamed inside the tree. */
static struct { uint32_t cookie; char *path; } cookies[RENAME_COOKIES];
static unsigned cookie_next;

static void emit(int ops, const char *path) {
    if (!ops) return;
    printf("%d:%s", ops, path);
    putchar('\0');
}

static void watch_fatal(const char *what, const char *detail) {
    printf("E%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    putchar('\0');
    fflush(stdout);
    exit(1);
}

static char *join_path(const char *dir, const char *name) {
    size_t dl = strlen(dir), nl = strlen(name);
    int slash = dl > 0 && dir[dl - 1] != '/';
    char *p = malloc(dl + slash + nl + 1);
    if (!p) watch_fatal("out of memory", NULL);
    memcpy(p, dir, dl);
    if (slash) p[dl] = '/';
    memcpy(p + dl + slash, name, nl + 1);
    return p;
}

static struct watch *watch_of(int wd) {
    if (wd < 0 || (size_t)wd >= watches_cap || !watches[wd].path) return NULL;
    return &watches[wd];
}

static int add_watch(const char *path, int root) {
    int wd = inotify_add_watch(inotify_fd, path, WATCH_EVENTS | (root ? 0 : IN_DONT_FOLLOW | IN_ONLYDIR));
    if (wd < 0) return -1;
    if ((size_t)wd >= watches_cap) {
        size_t cap = watches_cap ? watches_cap : 64;
        while (cap <= (size_t)wd) cap *= 2;
        struct watch *grown = realloc(watches, cap * sizeof *grown);
        if (!grown) watch_fatal("out of memory", NULL);
        memset(grown + watches_cap, 0, (cap - watches_cap) * sizeof *grown);
        watches = grown;
        watches_cap = cap;
    }
    struct watch *w = &watches[wd];
    char *copy = strdup(path);
    if (!copy) watch_fatal("out of memory", NULL);
    free(w->path); /* the same directory again (e.g. renamed): same wd, new path */
    w->path = copy;
    w->root = w->root || root;
    struct stat st;
    if ((root ? stat(path, &st) : lstat(path, &st)) == 0) {
        w->dev = st.st_dev;
        w->ino = st.st_ino;
    }
    return wd;
}

static void forget_watch(struct watch *w) {
    free(w->path);
    w->path = NULL;
    w->root = 0;
}

/* Stops watching dir and everything below it. */
static void unwatch_tree(const char *dir) {
    char *prefix = strdup(dir);
    if (!prefix) watch_fatal("out of memory", NULL);
    size_t pl = strlen(prefix);
    for (size_t wd = 0; wd < watches_cap; wd++) {
        struct watch *w = &watches[wd];
        if (!w->path || strncmp(w->path, prefix, pl) != 0 || (w->path[pl] != '/' && w->path[pl] != '\0')) continue;
        inotify_rm_watch(inotify_fd, (int)wd);
        forget_watch(w);
    }
    free(prefix);
}

/* Watches every directory below dir; with `announce`, reports each entry found as created. */
static void watch_tree(const char *dir, int announce) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *child = join_path(dir, e->d_name);
        if (announce) emit(OP_CREATE, child);
        int is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st;
            is_dir = lstat(child, &st) == 0 && S_ISDIR(st.st_mode);
        }
        if (is_dir && add_watch(child, 0) >= 0) watch_tree(child, announce);
        free(child);
    }
    closedir(d);
}

/* Watched paths under `from` now live under `to`. */
static void rename_watches(const char *from, const char *to) {
    size_t fl = strlen(from);
    for (size_t wd = 0; wd < watches_cap; wd++) {
        struct watch *w = &watches[wd];
        if (!w->path || strncmp(w->path, from, fl) != 0 || (w->path[fl] != '/' && w->path[fl] != '\0')) continue;
        char *moved = malloc(strlen(to) + strlen(w->path + fl) + 1);
        if (!moved) watch_fatal("out of memory", NULL);
        strcpy(moved, to);
        strcat(moved, w->path + fl);
        free(w->path);
        w->path = moved;
    }
}

static void handle_event(const struct inotify_event *ev) {
    if (ev->mask & IN_Q_OVERFLOW) watch_fatal("inotify event queue overflowed", NULL);
    struct watch *w = watch_of(ev->wd);
    if (!w) return;
    if (ev->mask & (IN_IGNORED | IN_UNMOUNT)) {
        forget_watch(w);
        return;
    }
    char *path = ev->len > 0 ? join_path(w->path, ev->name) : strdup(w->path);
    if (!path) watch_fatal("out of memory", NULL);

    if (ev->mask & IN_DELETE_SELF) {
        /* A subdirectory's removal is reported by its parent (IN_DELETE). */
        if (w->root) emit(OP_REMOVE, path);
    } else if (ev->mask & IN_MOVE_SELF) {
        if (w->root) {
            emit(OP_RENAME, path);
            unwatch_tree(w->path);
        } else {
            /* Moved inside the tree: IN_MOVED_TO already renamed it. Moved out: stop watching it. */
            struct stat st;
            if (lstat(w->path, &st) != 0 || st.st_ino != w->ino || st.st_dev != w->dev) unwatch_tree(w->path);
        }
    } else {
        int ops = 0;
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) ops |= OP_CREATE;
        if (ev->mask & IN_DELETE) ops |= OP_REMOVE;
        if (ev->mask & IN_MODIFY) ops |= OP_WRITE;
        if (ev->mask & IN_MOVED_FROM) ops |= OP_RENAME;
        if (ev->mask & IN_ATTRIB) ops |= OP_CHMOD;
        const char *renamed_from = NULL;
        if (ev->cookie && (ev->mask & IN_MOVED_FROM)) {
            free(cookies[cookie_next].path);
            cookies[cookie_next].cookie = ev->cookie;
            cookies[cookie_next].path = strdup(path);
            cookie_next = (cookie_next + 1) % RENAME_COOKIES;
        } else if (ev->cookie && (ev->mask & IN_MOVED_TO)) {
            for (int k = 0; k < RENAME_COOKIES; k++)
                if (cookies[k].path && cookies[k].cookie == ev->cookie) renamed_from = cookies[k].path;
        }
        emit(ops, path);
        if (watch_recursive && (ev->mask & IN_ISDIR) && (ops & OP_CREATE)) {
            if (renamed_from) rename_watches(renamed_from, path);
            if (add_watch(path, 0) >= 0) watch_tree(path, 1);
        }
    }
    free(path);
}

static int watch_main(int argc, char **argv) {
    signal(SIGPIPE, SIG_DFL);
    const char *dir = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--recursive") == 0) watch_recursive = 1;
        else dir = argv[i];
    }
    if (!dir) watch_fatal("usage: --watch [--recursive] <dir>", NULL);
    inotify_fd = inotify_init1(IN_CLOEXEC);
    if (inotify_fd < 0) watch_fatal("inotify_init1", strerror(errno));
    if (add_watch(dir, 1) < 0) watch_fatal(dir, strerror(errno));
    if (watch_recursive) watch_tree(dir, 0);
    putchar('S');
    putchar('\0');
    fflush(stdout);

    static char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    struct pollfd pfds[2] = {{.fd = inotify_fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    for (;;) {
        if (poll(pfds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            watch_fatal("poll", strerror(errno));
        }
        if (pfds[1].revents) {
            char discard[256];
            if (read(0, discard, sizeof discard) <= 0) return 0; /* the agent is done with us */
        }
        if (pfds[0].revents & POLLIN) {
            ssize_t n = read(inotify_fd, buf, sizeof buf);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                watch_fatal("read inotify", strerror(errno));
            }
            for (char *p = buf; p < buf + n;) {
                const struct inotify_event *ev = (const struct inotify_event *)p;
                handle_event(ev);
                p += sizeof *ev + ev->len;
            }
            fflush(stdout);
        }
    }
}

/*
 * The agent runs on listeners e2b-init holds for it (fds 3 and 4, see init.c), and Node passes
 * them on to every child. No command needs them: a listening socket found here is closed, so no
 * command (nor a relay) holds the agent's sockets.
 */
static void close_inherited_listeners(void) {
    for (int fd = 3; fd <= 4; fd++) {
        int listening = 0;
        socklen_t len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening) close(fd);
    }
}

int main(int argc, char **argv) {
    close_inherited_listeners();
    if (argc >= 2 && strcmp(argv[1], "--fs-server") == 0) return fs_server();
    if (argc >= 2 && strcmp(argv[1], "--watch") == 0) return watch_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "--launcher") == 0) return launcher_main();

    int have_uid = 0, have_gid = 0, have_groups = 0, pipes_mode = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    gid_t groups[256];
    size_t ngroups = 0;
    int i = 1;

    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--uid") == 0 && i + 1 < argc) {
            uid = (uid_t)parse_num(argv[++i], 0x7fffffffL);
            have_uid = 1;
        } else if (strcmp(a, "--gid") == 0 && i + 1 < argc) {
            gid = (gid_t)parse_num(argv[++i], 0x7fffffffL);
            have_gid = 1;
        } else if (strcmp(a, "--groups") == 0 && i + 1 < argc) {
            have_groups = 1;
            char *list = argv[++i];
            for (char *tok = strtok(list, ","); tok && ngroups < 256; tok = strtok(NULL, ","))
                groups[ngroups++] = (gid_t)parse_num(tok, 0x7fffffffL);
        } else if (strcmp(a, "--pipes") == 0) {
            pipes_mode = 1;
        } else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else {
            break;
        }
    }

    unsigned cols = 0, rows = 0;
    if (!pipes_mode) {
        if (argc - i < 3) usage();
        cols = (unsigned)parse_num(argv[i++], 65535);
        rows = (unsigned)parse_num(argv[i++], 65535);
    } else if (argc - i < 1) {
        usage();
    }
    char **cmd = &argv[i];

    drop_privileges(have_uid, uid, have_gid, gid, have_groups, groups, ngroups);

    struct channel *chans = calloc(3, sizeof *chans);
    if (!chans) die("calloc");
    int nchans = 0;
    int master = -1;
    int cmd_fds[3] = {-1, -1, -1}; /* what becomes the command's 0/1/2 (-1: keep as is) */
    int control_fd = -1;

    if (!pipes_mode) {
        master = open_pty(cols, rows);
        if (master < 0) die("open pty");
        /* agent stdin → terminal input; terminal output → agent stdout */
        chans[nchans++] = (struct channel){.in = 0, .out = master};
        chans[nchans++] = (struct channel){.in = master, .out = 1, .is_output = 1};
        if (fcntl(CONTROL_FD, F_GETFD) >= 0) control_fd = CONTROL_FD;
    } else {
        for (int fd = 0; fd <= 2; fd++) {
            if (!is_socket(fd)) continue;
            int p[2];
            if (pipe2(p, O_CLOEXEC) != 0) die("pipe");
            if (fd == 0) {
                chans[nchans++] = (struct channel){.in = 0, .out = p[1], .close_out = 1};
                cmd_fds[0] = p[0];
            } else {
                chans[nchans++] = (struct channel){.in = p[0], .out = fd, .is_output = 1};
                cmd_fds[fd] = p[1];
            }
        }
    }

    pid_t cmd_pid = getpid();
    /* Opened before the fork so the relay can never miss the command's exit. pidfds are CLOEXEC. */
    int pidfd = (int)syscall(SYS_pidfd_open, cmd_pid, 0);

    pid_t mid = fork();
    if (mid < 0) die("fork");
    if (mid == 0) {
        pid_t r = fork();
        if (r < 0) _exit(1);
        if (r > 0) _exit(0);
        /* The relay: its own session, so signals aimed at the command's group or terminal miss it. */
        setsid();
        for (int fd = 0; fd <= 2; fd++)
            if (cmd_fds[fd] >= 0) close(cmd_fds[fd]);
        if (nchans == 0) _exit(0); /* nothing to relay (pipes mode without sockets) */
        relay(chans, nchans, control_fd, master, pidfd, cmd_pid, !pipes_mode);
        _exit(0);
    }
    int st;
    while (waitpid(mid, &st, 0) < 0 && errno == EINTR) {
    }
    if (pidfd >= 0) close(pidfd);

    /* The command side. */
    if (!pipes_mode) {
        attach_pty_slave(master);
    } else {
        for (int fd = 0; fd <= 2; fd++) {
            if (cmd_fds[fd] < 0) continue;
            if (dup2(cmd_fds[fd], fd) < 0) die("dup2");
            close(cmd_fds[fd]);
        }
        for (int k = 0; k < nchans; k++) {
            /* relay-side pipe ends are CLOEXEC, but close them now so EOF semantics are exact */
            if (chans[k].in > 2) close(chans[k].in);
            if (chans[k].out > 2) close(chans[k].out);
        }
    }
    if (control_fd >= 0) close(control_fd);
    exec_command(cmd);
}
