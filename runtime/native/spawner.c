/*
 * e2b-spawner: runs the host tools the runtime needs (crun, the disk tool, umount, rm, ip, du...)
 * so the runtime never forks itself. A fork copies the forking process's page tables, and
 * Node's spawn() waits for it on the event loop: ~1.3 ms per command for an idle runtime here,
 * ~4 ms each in a burst of 100 creates (800 ms of a frozen event loop over 200 commands). This
 * process is a few hundred kB, so its forks cost next to nothing.
 *
 * The runtime starts it once, with requests on stdin and answers on stdout (its stderr is the
 * runtime's). All integers are little-endian u32 (status: i32).
 *   request  len, id, timeout_ms (0: none), input_len, input bytes, then NUL-ended strings:
 *            output file ("" to capture stdout and stderr), then the argv (searched in PATH).
 *   answer   len, id, status (exit code >= 0, or -signal), timed_out (0/1), stdout_len,
 *            stderr_len, stdout bytes, stderr bytes.
 * A command that cannot be started answers status 127 with the reason on stderr.
 *
 * Each request gets a worker (forked from this small process) that runs the command and writes
 * the whole answer under an exclusive lock, so concurrent answers never interleave. The command
 * gets stdin (the input, or /dev/null), stdout and stderr, and no other descriptor of ours.
 * At EOF on stdin (the runtime is gone) the spawner exits; running workers finish their command.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fd-io.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* What one command may write to a captured stream (crun list with 500 sandboxes is ~200 kB). */
#define MAX_CAPTURE (64u << 20)
#define MAX_REQUEST (16u << 20)

struct buffer {
    char *data;
    size_t len, cap;
};

static void append(struct buffer *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) _exit(70);
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void append_u32(struct buffer *b, uint32_t v) {
    unsigned char le[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
    append(b, le, 4);
}

static uint32_t read_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct request {
    uint32_t id, timeout_ms, input_len;
    const char *input;
    const char *output_file;
    char **argv;
};

/* Splits a request's payload; -1 if it is malformed. */
static int parse_request(char *payload, size_t len, struct request *req) {
    if (len < 12) return -1;
    req->id = read_u32((unsigned char *)payload);
    req->timeout_ms = read_u32((unsigned char *)payload + 4);
    req->input_len = read_u32((unsigned char *)payload + 8);
    if (req->input_len > len - 12) return -1;
    req->input = payload + 12;
    char *at = payload + 12 + req->input_len, *end = payload + len;
    if (at == end || end[-1] != '\0') return -1;
    size_t count = 0;
    for (char *p = at; p < end; p++)
        if (*p == '\0') count++;
    if (count < 2) return -1; /* the output file and at least argv[0] */
    req->argv = calloc(count, sizeof(char *));
    if (!req->argv) return -1;
    req->output_file = at;
    at += strlen(at) + 1;
    for (size_t i = 0; at < end; i++) {
        req->argv[i] = at;
        at += strlen(at) + 1;
    }
    return 0;
}

/* In the command's child: its stdio, then exec; on failure the errno goes up exec_fd. */
static void exec_command(const struct request *req, int in_fd, int out_fd, int err_fd, int exec_fd) {
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    /* Everything else of ours is O_CLOEXEC (main() closed what it inherited). */
    if (dup2(in_fd, 0) >= 0 && dup2(out_fd, 1) >= 0 && dup2(err_fd, 2) >= 0) execvp(req->argv[0], req->argv);
    int err = errno;
    write_all(exec_fd, (char *)&err, sizeof err);
    _exit(127);
}

/* Reads what is there without blocking; 0 at EOF, 1 if more may come. */
static int drain(int fd, struct buffer *into) {
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r > 0) {
            if (into->len < MAX_CAPTURE) append(into, chunk, (size_t)r > MAX_CAPTURE - into->len ? MAX_CAPTURE - into->len : (size_t)r);
            continue;
        }
        if (r == 0) return 0;
        if (errno == EINTR) continue;
        return errno == EAGAIN ? 1 : 0;
    }
}

/* Writes one answer whole, under an exclusive lock of this process's own: every writer opens
 * the lock file anew, so concurrent writers exclude each other and answers never interleave. */
static void send_answer(const char *lock_path, uint32_t id, int status, int timed_out, const struct buffer *out, const struct buffer *err) {
    struct buffer msg = {0};
    append_u32(&msg, 0); /* the length, set below */
    append_u32(&msg, id);
    append_u32(&msg, (uint32_t)status);
    append_u32(&msg, (uint32_t)timed_out);
    append_u32(&msg, (uint32_t)out->len);
    append_u32(&msg, (uint32_t)err->len);
    if (out->len) append(&msg, out->data, out->len);
    if (err->len) append(&msg, err->data, err->len);
    uint32_t len = (uint32_t)(msg.len - 4);
    for (int i = 0; i < 4; i++) msg.data[i] = (char)((len >> (8 * i)) & 0xff);
    int lock_fd = open(lock_path, O_RDONLY | O_CLOEXEC);
    if (lock_fd >= 0) flock(lock_fd, LOCK_EX);
    write_all(1, msg.data, msg.len);
    if (lock_fd >= 0) close(lock_fd);
    free(msg.data);
}

/* The worker: runs one command to its end and answers for it. Never returns. */
static void run_request(const struct request *req, const char *lock_path) {
    signal(SIGCHLD, SIG_DFL);
    struct buffer out = {0}, err = {0};
    int status = 127, timed_out = 0;
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, exec_pipe[2];
    int in_fd = -1, out_fd = -1, err_fd = -1;
    char reason[512] = "";

    if (pipe2(exec_pipe, O_CLOEXEC) < 0) goto answer;
    if (req->input_len > 0) {
        if (pipe2(in_pipe, O_CLOEXEC) < 0) goto answer;
        in_fd = in_pipe[0];
    } else if ((in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        goto answer;
    }
    if (req->output_file[0]) {
        out_fd = open(req->output_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out_fd < 0) {
            snprintf(reason, sizeof reason, "%s: %s\n", req->output_file, strerror(errno));
            goto answer;
        }
        err_fd = out_fd;
    } else {
        if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) goto answer;
        out_fd = out_pipe[1];
        err_fd = err_pipe[1];
    }

    pid_t pid = fork();
    if (pid < 0) {
        snprintf(reason, sizeof reason, "fork: %s\n", strerror(errno));
        goto answer;
    }
    if (pid == 0) exec_command(req, in_fd, out_fd, err_fd, exec_pipe[1]);
    close(exec_pipe[1]);
    if (req->output_file[0]) close(out_fd);
    else {
        close(out_pipe[1]);
        close(err_pipe[1]);
        fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
        fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
    }
    close(in_fd);
    if (in_pipe[1] >= 0) {
        signal(SIGPIPE, SIG_IGN); /* a command that does not read its input is no error of ours */
        write_all(in_pipe[1], req->input, req->input_len);
        close(in_pipe[1]);
    }
    int exec_errno = 0;
    if (read_full(exec_pipe[0], &exec_errno, sizeof exec_errno) == 0) {
        waitpid(pid, NULL, 0);
        snprintf(reason, sizeof reason, "%s: %s\n", req->argv[0], strerror(exec_errno));
        goto answer;
    }

    /* Output until the command exits (a pidfd), then what is left in the pipes: a process it
     * left behind holding them must not keep the answer back. */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    long long deadline = req->timeout_ms ? now_ms() + req->timeout_ms : 0;
    int out_open = !req->output_file[0], err_open = out_open;
    /* Without pidfds (Linux < 5.3) the pipes' EOF says the command is done. */
    while (pidfd >= 0 || out_open || err_open) {
        struct pollfd fds[3] = {{pidfd, POLLIN, 0}, {out_open ? out_pipe[0] : -1, POLLIN, 0}, {err_open ? err_pipe[0] : -1, POLLIN, 0}};
        int wait_ms = -1;
        if (deadline && !timed_out) wait_ms = (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 0);
        int n = poll(fds, 3, wait_ms);
        if (n < 0 && errno != EINTR) break;
        if (n == 0 && deadline && !timed_out) {
            timed_out = 1;
            kill(pid, SIGKILL);
            continue;
        }
        if (out_open && fds[1].revents) out_open = drain(out_pipe[0], &out);
        if (err_open && fds[2].revents) err_open = drain(err_pipe[0], &err);
        if (pidfd >= 0 && fds[0].revents) break;
    }
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WIFSIGNALED(wstatus) ? -WTERMSIG(wstatus) : 127;
    if (out_open) drain(out_pipe[0], &out);
    if (err_open) drain(err_pipe[0], &err);

answer:
    if (reason[0]) append(&err, reason, strlen(reason));
    send_answer(lock_path, req->id, status, timed_out, &out, &err);
    _exit(0);
}

int main(void) {
    /* Workers are reaped by the kernel; each waits for its own command. */
    signal(SIGCHLD, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    closefrom(3); /* nothing of the runtime's reaches a command */
    char lock_path[64];
    snprintf(lock_path, sizeof lock_path, "/proc/%d/exe", (int)getpid());
    for (;;) {
        unsigned char head[4];
        if (read_full(0, head, 4) < 0) return 0;
        uint32_t len = read_u32(head);
        if (len > MAX_REQUEST) {
            fprintf(stderr, "e2b-spawner: a request of %u bytes: giving up\n", len);
            return 1;
        }
        char *payload = malloc(len ? len : 1);
        if (!payload || read_full(0, payload, len) < 0) return 0;
        struct request req;
        if (parse_request(payload, len, &req) < 0) {
            fprintf(stderr, "e2b-spawner: a malformed request: giving up\n");
            return 1;
        }
        pid_t worker = fork();
        if (worker == 0) run_request(&req, lock_path);
        if (worker < 0) {
            /* Answered as a command that could not start, so the caller is not left waiting. */
            char reason[512];
            snprintf(reason, sizeof reason, "fork: %s\n", strerror(errno));
            struct buffer none = {0}, err = {reason, strlen(reason), sizeof reason};
            send_answer(lock_path, req.id, 127, 0, &none, &err);
        }
        free(req.argv);
        free(payload);
    }
}
