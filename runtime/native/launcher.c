/*
 * e2b-ptyexec --launcher: starts the sandbox agent's commands, so the agent (a Node process of
 * tens of MB) never forks itself per command. The agent starts it once with a Node IPC channel
 * (stdio 'ipc', fd in NODE_CHANNEL_FD); this tiny process forks cheaply.
 *
 * Protocol on the channel (Node's JSON-lines IPC, serialization "json"):
 *   agent → launcher  {"s":"<hex>"}: a start request; the hex decodes to NUL-ended fields
 *                     id, mode ("pty"|"pipes"), stdin ("1"|"0"), cols, rows, switch ("1"|"0"),
 *                     uid, gid, groups ("g1,g2,..."), cwd, argc, argv × argc, envc, env × envc.
 *                     Anything else (Node's NODE_HANDLE_ACK) is ignored.
 *   launcher → agent  one {"cmd":"NODE_HANDLE","type":"net.Socket","msg":{"id":N,"fd":"<name>"}}
 *                     per socket, the socket itself attached with SCM_RIGHTS (Node turns it into
 *                     a net.Socket): pipes "io" (stdin in, stdout out), "err", "ctl"; pty "io"
 *                     (terminal in and out), "ctl". Or {"id":N,"error":"<text>"} if nothing
 *                     could be started. The kernel never merges two fd-carrying writes into one
 *                     read, so each handle line reaches Node in a read of its own, as Node expects.
 *
 * Per command the launcher forks a supervisor, which owns the sockets: it makes the command's pty
 * or pipes, forks the command (its own session, so signals to the command's group miss the
 * supervisor), and relays (relay.c) until the command exited and its output was passed on. On
 * "ctl" it writes "pid N\n" once the command exists, then "exit N\n" or "signal N\n" (its wait
 * status, as its parent), then exits, which closes every socket. Or "error <text>\n" if setting
 * up failed. In pty mode the agent writes "cols rows\n" lines on "ctl" to resize.
 *
 * The launcher is no command's parent: if it dies, running commands and their supervisors go on,
 * and the agent starts a new launcher for the next command.
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
    const char *id;
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
    prctl(PR_SET_NAME, "e2b-ptyexec");
    close(channel_fd);
    int io = socks[0];
    int err_sock = req->pty ? -1 : socks[1];
    int ctl = req->pty ? socks[1] : socks[2];

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

/* ---------------------------------------------------------------- the launcher */

static void send_error(const char *id, const char *what) {
    char line[512];
    int n = snprintf(line, sizeof line, "{\"id\":%s,\"error\":\"%s: %s\"}\n", id, what, strerror(errno));
    if (n > 0) write_all(channel_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* One NODE_HANDLE message with the socket attached; Node emits it as ('message', msg, socket). */
static void send_handle(const char *id, const char *name, int fd) {
    char line[256];
    int n = snprintf(line, sizeof line,
                     "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"id\":%s,\"fd\":\"%s\"}}\n", id, name);
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

static void launch(const struct request *req) {
    int nsock = req->pty ? 2 : 3;
    int ours[MAX_SOCKETS], theirs[MAX_SOCKETS];
    for (int i = 0; i < nsock; i++) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
            send_error(req->id, "socketpair");
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
        for (int i = 0; i < nsock; i++) close(ours[i]);
        supervise(req, theirs);
    }
    if (pid < 0) send_error(req->id, "fork");
    static const char *pipe_names[] = {"io", "err", "ctl"}, *pty_names[] = {"io", "ctl"};
    for (int i = 0; i < nsock; i++) {
        close(theirs[i]);
        if (pid > 0) send_handle(req->id, req->pty ? pty_names[i] : pipe_names[i], ours[i]);
        close(ours[i]);
    }
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* The next NUL-ended field of a decoded request, or NULL when it runs out. */
static char *next_field(char **cursor, char *end) {
    char *start = *cursor;
    if (start >= end) return NULL;
    char *nul = memchr(start, '\0', (size_t)(end - start));
    if (!nul) return NULL;
    *cursor = nul + 1;
    return start;
}

static int parse_count(const char *field, long max, long *out) {
    char *end = NULL;
    if (!field || !*field) return -1;
    errno = 0;
    long v = strtol(field, &end, 10);
    if (errno || *end || v < 0 || v > max) return -1;
    *out = v;
    return 0;
}

/* Decodes and starts one request line; malformed lines are dropped (the agent never sends them). */
static void handle_line(char *line) {
    char *hex = strstr(line, "\"s\":\"");
    if (!hex) return;
    hex += 5;
    char *quote = strchr(hex, '"');
    if (!quote || (quote - hex) % 2) return;
    size_t len = (size_t)(quote - hex) / 2;
    char *data = malloc(len + 1);
    if (!data) return;
    for (size_t i = 0; i < len; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(data);
            return;
        }
        data[i] = (char)(hi << 4 | lo);
    }
    data[len] = 0;
    char *cursor = data, *end = data + len;
    struct request req = {0};
    char *f[9];
    for (int i = 0; i < 9; i++)
        if (!(f[i] = next_field(&cursor, end))) goto bad;
    req.id = f[0];
    for (const char *p = req.id; *p; p++)
        if (*p < '0' || *p > '9') goto bad;
    if (!*req.id) goto bad;
    req.pty = strcmp(f[1], "pty") == 0;
    req.stdin_pipe = strcmp(f[2], "1") == 0;
    long v;
    if (parse_count(f[3], 65535, &v)) goto bad;
    req.cols = (unsigned)v;
    if (parse_count(f[4], 65535, &v)) goto bad;
    req.rows = (unsigned)v;
    req.switch_user = strcmp(f[5], "1") == 0;
    if (parse_count(f[6], 0x7fffffffL, &v)) goto bad;
    req.uid = (uid_t)v;
    if (parse_count(f[7], 0x7fffffffL, &v)) goto bad;
    req.gid = (gid_t)v;
    gid_t groups[256];
    for (char *tok = strtok(f[8], ","); tok && req.ngroups < 256; tok = strtok(NULL, ",")) {
        if (parse_count(tok, 0x7fffffffL, &v)) goto bad;
        groups[req.ngroups++] = (gid_t)v;
    }
    req.groups = groups;
    if (!(req.cwd = next_field(&cursor, end))) goto bad;
    long argc, envc;
    if (parse_count(next_field(&cursor, end), 1 << 20, &argc) || argc < 1) goto bad;
    req.argv = calloc((size_t)argc + 1, sizeof *req.argv);
    if (!req.argv) goto bad;
    for (long i = 0; i < argc; i++)
        if (!(req.argv[i] = next_field(&cursor, end))) goto bad;
    if (parse_count(next_field(&cursor, end), 1 << 20, &envc)) goto bad;
    req.envp = calloc((size_t)envc + 1, sizeof *req.envp);
    if (!req.envp) goto bad;
    for (long i = 0; i < envc; i++)
        if (!(req.envp[i] = next_field(&cursor, end))) goto bad;
    launch(&req);
    free(req.argv);
    free(req.envp);
    free(data);
    return;
bad:
    fprintf(stderr, "%s: malformed launch request dropped\n", prog);
    if (req.id && *req.id) {
        errno = EINVAL;
        int digits = 1;
        for (const char *p = req.id; *p; p++) digits = digits && *p >= '0' && *p <= '9';
        if (digits) send_error(req.id, "malformed request");
    }
    free(req.argv);
    free(req.envp);
    free(data);
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
