/*
 * e2b-ptyexec --launcher: starts the sandbox agent's commands, so the agent (a Node process of
 * tens of MB) never forks itself per command. The agent starts it once with a Node IPC channel
 * (stdio 'ipc', fd in NODE_CHANNEL_FD); this tiny process forks cheaply.
 *
 * The launcher forks supervisors ahead of the commands ("spares"): a command's start is then one
 * write to a supervisor that already waits, not a fork and three sockets passed while it waits.
 *
 * Protocol on the channel (Node's JSON-lines IPC, serialization "json"):
 *   agent → launcher  {"spare":N}: fork one more spare supervisor, N the agent's name for it.
 *                     Anything else (Node's NODE_HANDLE_ACK) is ignored.
 *   launcher → agent  one {"cmd":"NODE_HANDLE","type":"net.Socket","msg":{"spare":N,"fd":"<name>"}}
 *                     per socket, "io", "err", then "ctl", the socket itself attached with
 *                     SCM_RIGHTS (Node turns it into a net.Socket). Or {"spare":N,"error":"<text>"}
 *                     if it could not be made. The kernel never merges two fd-carrying writes
 *                     into one read, so each handle line reaches Node in a read of its own, as
 *                     Node expects.
 *
 * On "ctl" a spare reads its one request: 8 hex digits of length, then that many bytes of
 * NUL-ended fields: mode ("pty"|"pipes"), stdin ("1"|"0"), cols, rows, switch ("1"|"0"), uid,
 * gid, groups ("g1,g2,..."), cwd, argc, argv × argc, envc, env × envc. It makes the command's pty
 * or pipes ("io": stdin in and stdout out, or the terminal; "err": stderr, closed for a pty),
 * forks the command (its own session, so signals to the command's group miss the supervisor),
 * and relays (relay.c) until the command exited and its output was passed on. On "ctl" it writes
 * "pid N\n" once the command exists, then "exit N\n" or "signal N\n" (its wait status, as its
 * parent), then exits, which closes every socket. Or "error <text>\n" if setting up failed. In
 * pty mode the agent writes "cols rows\n" lines on "ctl" to resize. A spare whose "ctl" closes
 * before a request (the agent went away) exits.
 *
 * The launcher is no command's parent: if it dies, spares, running commands and their
 * supervisors go on, and the agent starts a new launcher when it needs another spare.
 */
#define _GNU_SOURCE
#include "launcher.h"
#include "fd-io.h"
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define MAX_SOCKETS 3

extern char **environ;

struct request {
    int pty, stdin_pipe, switch_user;
    unsigned cols, rows;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    size_t ngroups;
    const char *cwd;
    char **argv;
    char **envp;
};

static int channel_fd = -1;


/* ---------------------------------------------------------------- the supervisor (one per command) */

static void reset_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
}

__attribute__((noreturn)) static void setup_failed(int ctl, const char *what) {
    char line[512];
    int n = snprintf(line, sizeof line, "error %s: %s\n", what, strerror(errno));
    if (n > 0) write_all(ctl, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    _exit(126);
}

/* In the forked command: its stdio, its session, its environment, then exec. */
__attribute__((noreturn)) static void become_command(const struct request *req, int master, int fds[3]) {
    reset_signals();
    if (req->pty) {
        attach_pty_slave(master);
    } else {
        setsid();
        for (int fd = 0; fd <= 2; fd++)
            if (fds[fd] >= 0 && dup2(fds[fd], fd) < 0) die("dup2");
    }
    environ = req->envp;
    exec_command(req->argv);
}

__attribute__((noreturn)) static void supervise(const struct request *req, int socks[MAX_SOCKETS]) {
    reset_signals();
    signal(SIGPIPE, SIG_IGN);
    setsid();
    int io = socks[0];
    int err_sock = socks[1];
    int ctl = socks[2];
    if (req->pty) {
        close(err_sock);
        err_sock = -1;
    }

    /* As the agent's spawn did: the directory first (as root), then the identity. */
    if (chdir(req->cwd) != 0) setup_failed(ctl, "chdir");
    if (req->switch_user) {
        if (setgroups(req->ngroups, req->groups) != 0) setup_failed(ctl, "setgroups");
        if (setgid(req->gid) != 0) setup_failed(ctl, "setgid");
        if (setuid(req->uid) != 0) setup_failed(ctl, "setuid");
    }

    struct channel *chans = calloc(3, sizeof *chans);
    if (!chans) setup_failed(ctl, "calloc");
    int nchans = 0, master = -1;
    int cmd_fds[3] = {-1, -1, -1}; /* the command's 0/1/2 */
    if (req->pty) {
        master = open_pty(req->cols, req->rows);
        if (master < 0) setup_failed(ctl, "open pty");
        chans[nchans++] = (struct channel){.in = io, .out = master};
        chans[nchans++] = (struct channel){.in = master, .out = io, .is_output = 1};
    } else {
        int p[2];
        if (req->stdin_pipe) {
            if (pipe2(p, O_CLOEXEC) != 0) setup_failed(ctl, "pipe");
            chans[nchans++] = (struct channel){.in = io, .out = p[1], .close_out = 1};
            cmd_fds[0] = p[0];
        } else {
            cmd_fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (cmd_fds[0] < 0) setup_failed(ctl, "open /dev/null");
        }
        if (pipe2(p, O_CLOEXEC) != 0) setup_failed(ctl, "pipe");
        chans[nchans++] = (struct channel){.in = p[0], .out = io, .is_output = 1};
        cmd_fds[1] = p[1];
        if (pipe2(p, O_CLOEXEC) != 0) setup_failed(ctl, "pipe");
        chans[nchans++] = (struct channel){.in = p[0], .out = err_sock, .is_output = 1};
        cmd_fds[2] = p[1];
    }

    pid_t pid = fork();
    if (pid < 0) setup_failed(ctl, "fork");
    if (pid == 0) become_command(req, master, cmd_fds);

    /* A pidfd of our own child works even once it is a zombie: we have not waited yet. */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    char line[64];
    int n = snprintf(line, sizeof line, "pid %d\n", (int)pid);
    write_all(ctl, line, (size_t)n);
    for (int fd = 0; fd <= 2; fd++)
        if (cmd_fds[fd] >= 0) close(cmd_fds[fd]);

    relay(chans, nchans, req->pty ? ctl : -1, master, pidfd, pid, req->pty);

    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) n = snprintf(line, sizeof line, "signal %d\n", WTERMSIG(status));
    else n = snprintf(line, sizeof line, "exit %d\n", WEXITSTATUS(status));
    write_all(ctl, line, (size_t)n);
    _exit(0);
}

/* ---------------------------------------------------------------- a spare's request */

static int parse_count(const char *field, long max, long *out) {
    char *end = NULL;
    if (!field || !*field) return -1;
    errno = 0;
    long v = strtol(field, &end, 10);
    if (errno || *end || v < 0 || v > max) return -1;
    *out = v;
    return 0;
}

/* The next NUL-ended field of a request, or NULL when it runs out. */
static char *next_field(char **cursor, char *end) {
    char *start = *cursor;
    if (start >= end) return NULL;
    char *nul = memchr(start, '\0', (size_t)(end - start));
    if (!nul) return NULL;
    *cursor = nul + 1;
    return start;
}

#define MAX_GROUPS 256

/* Fills req from the fields in data (pointing into it); -1 if they are malformed. */
static int parse_request(char *data, size_t len, struct request *req, gid_t groups[MAX_GROUPS]) {
    char *cursor = data, *end = data + len;
    char *f[8];
    for (int i = 0; i < 8; i++)
        if (!(f[i] = next_field(&cursor, end))) return -1;
    req->pty = strcmp(f[0], "pty") == 0;
    req->stdin_pipe = strcmp(f[1], "1") == 0;
    long v;
    if (parse_count(f[2], 65535, &v)) return -1;
    req->cols = (unsigned)v;
    if (parse_count(f[3], 65535, &v)) return -1;
    req->rows = (unsigned)v;
    req->switch_user = strcmp(f[4], "1") == 0;
    if (parse_count(f[5], 0x7fffffffL, &v)) return -1;
    req->uid = (uid_t)v;
    if (parse_count(f[6], 0x7fffffffL, &v)) return -1;
    req->gid = (gid_t)v;
    for (char *tok = strtok(f[7], ","); tok && req->ngroups < MAX_GROUPS; tok = strtok(NULL, ",")) {
        if (parse_count(tok, 0x7fffffffL, &v)) return -1;
        groups[req->ngroups++] = (gid_t)v;
    }
    req->groups = groups;
    if (!(req->cwd = next_field(&cursor, end))) return -1;
    long argc, envc;
    if (parse_count(next_field(&cursor, end), 1 << 20, &argc) || argc < 1) return -1;
    if (!(req->argv = calloc((size_t)argc + 1, sizeof *req->argv))) return -1;
    for (long i = 0; i < argc; i++)
        if (!(req->argv[i] = next_field(&cursor, end))) return -1;
    if (parse_count(next_field(&cursor, end), 1 << 20, &envc)) return -1;
    if (!(req->envp = calloc((size_t)envc + 1, sizeof *req->envp))) return -1;
    for (long i = 0; i < envc; i++)
        if (!(req->envp[i] = next_field(&cursor, end))) return -1;
    return 0;
}

#define MAX_REQUEST (256L << 20)

/* A spare supervisor, just forked: waits on "ctl" for its request, then supervises it. */
__attribute__((noreturn)) static void await_request(int socks[MAX_SOCKETS]) {
    prctl(PR_SET_NAME, "e2b-ptyexec");
    close(channel_fd);
    int ctl = socks[2];
    char head[9] = {0};
    if (read_full(ctl, head, 8) != 0) _exit(0); /* the agent went away */
    char *end = NULL;
    errno = 0;
    long len = strtol(head, &end, 16);
    if (errno || *end || len < 0 || len > MAX_REQUEST) {
        errno = EINVAL;
        setup_failed(ctl, "malformed launch request");
    }
    char *data = malloc((size_t)len + 1);
    if (!data) setup_failed(ctl, "malloc");
    if (read_full(ctl, data, (size_t)len) != 0) _exit(0);
    struct request req = {0};
    gid_t groups[MAX_GROUPS];
    if (parse_request(data, (size_t)len, &req, groups) != 0) {
        errno = EINVAL;
        setup_failed(ctl, "malformed launch request");
    }
    supervise(&req, socks);
}

/* ---------------------------------------------------------------- the launcher */

static void send_error(const char *spare, const char *what) {
    char line[512];
    int n = snprintf(line, sizeof line, "{\"spare\":%s,\"error\":\"%s: %s\"}\n", spare, what, strerror(errno));
    if (n > 0) write_all(channel_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* One NODE_HANDLE message with the socket attached; Node emits it as ('message', msg, socket). */
static void send_handle(const char *spare, const char *name, int fd) {
    char line[256];
    int n = snprintf(line, sizeof line,
                     "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"spare\":%s,\"fd\":\"%s\"}}\n", spare, name);
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = {.iov_base = line, .iov_len = (size_t)n};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    ssize_t w;
    while ((w = sendmsg(channel_fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    /* The fd travelled with the first byte; the rest of the line (rarely any) follows plainly. */
    if (w > 0 && w < n) write_all(channel_fd, line + w, (size_t)(n - w));
}

/* Forks one spare supervisor and hands its sockets to the agent. */
static void make_spare(const char *spare) {
    int ours[MAX_SOCKETS], theirs[MAX_SOCKETS];
    for (int i = 0; i < MAX_SOCKETS; i++) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
            send_error(spare, "socketpair");
            for (int k = 0; k < i; k++) {
                close(ours[k]);
                close(theirs[k]);
            }
            return;
        }
        ours[i] = pair[0];
        theirs[i] = pair[1];
    }
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < MAX_SOCKETS; i++) close(ours[i]);
        await_request(theirs);
    }
    if (pid < 0) send_error(spare, "fork");
    static const char *names[MAX_SOCKETS] = {"io", "err", "ctl"};
    for (int i = 0; i < MAX_SOCKETS; i++) {
        close(theirs[i]);
        if (pid > 0) send_handle(spare, names[i], ours[i]);
        close(ours[i]);
    }
}

/* {"spare":N}: makes that spare; other lines (Node's acknowledgements) need nothing. */
static void handle_line(char *line) {
    char *number = strstr(line, "\"spare\":");
    if (!number) return;
    number += 8;
    size_t digits = strspn(number, "0123456789");
    if (digits == 0 || digits > 15) return;
    number[digits] = '\0';
    make_spare(number);
}

int launcher_main(void) {
    const char *fd_text = getenv("NODE_CHANNEL_FD");
    channel_fd = fd_text ? atoi(fd_text) : -1;
    if (channel_fd < 0 || fcntl(channel_fd, F_GETFD) < 0) {
        fprintf(stderr, "%s --launcher: no IPC channel (NODE_CHANNEL_FD)\n", prog);
        return 2;
    }
    prctl(PR_SET_NAME, "e2b-launcher");
    fcntl(channel_fd, F_SETFD, FD_CLOEXEC);
    int fl = fcntl(channel_fd, F_GETFL);
    if (fl >= 0) fcntl(channel_fd, F_SETFL, fl & ~O_NONBLOCK);
    /* Supervisors are reaped by the kernel; they reset this for their own child. */
    signal(SIGCHLD, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);

    size_t cap = 65536, used = 0;
    char *buf = malloc(cap);
    if (!buf) return 1;
    for (;;) {
        if (used == cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) return 1;
            buf = grown;
            cap *= 2;
        }
        ssize_t n = read(channel_fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0; /* the agent went away */
        used += (size_t)n;
        char *start = buf, *nl;
        while ((nl = memchr(start, '\n', (size_t)(buf + used - start))) != NULL) {
            *nl = 0;
            handle_line(start);
            start = nl + 1;
        }
        used -= (size_t)(start - buf);
        memmove(buf, start, used);
    }
}
