/*
 * The byte relay between the sandbox agent and one command, shared by the one-shot e2b-ptyexec
 * (ptyexec.c) and the long-lived launcher (launcher.c): channels that copy between the agent's
 * sockets and the command's pty or pipes, the loop that runs them until the command exited and
 * its output was passed on, and the steps that turn a forked child into the command.
 */
#ifndef E2B_RELAY_H
#define E2B_RELAY_H

#include <stddef.h>
#include <sys/types.h>

#define RELAY_BUF_SIZE 65536

extern const char *prog;

struct channel {
    int in;          /* read side */
    int out;         /* write side */
    int close_out;   /* close `out` when `in` reaches EOF (stdin pipe → command sees EOF) */
    int in_eof;
    int out_dead;    /* write side gone: keep reading, drop the bytes */
    int is_output;   /* carries command output (drained after exit) */
    size_t len, off;
    char buf[RELAY_BUF_SIZE];
};

/* Prints "<prog>: <what>: <strerror(errno)>" to stderr and exits 126. */
void die(const char *what);
void set_nonblock(int fd);
void set_winsize(int fd, unsigned cols, unsigned rows);
/* Drops to the requested identity; supplementary groups first, while still root. */
void drop_privileges(int have_uid, uid_t uid, int have_gid, gid_t gid, int have_groups,
                     gid_t *groups, size_t ngroups);
/* A new pty master (CLOEXEC) of the given size; -1 with errno on failure. */
int open_pty(unsigned cols, unsigned rows);
/* In the command's process: makes the pty's slave its controlling terminal and fds 0-2. */
void attach_pty_slave(int master);
/* Closes every fd above 2 and execs cmd (PATH from environ); on failure reports and exits 126/127. */
__attribute__((noreturn)) void exec_command(char **cmd);
/*
 * Relays until the command (cmd_pid, watched through pidfd when >= 0) exited, then passes on what
 * it or its background jobs already wrote, and returns. control_fd (or -1) carries "cols rows\n"
 * lines that resize the pty master.
 */
void relay(struct channel *chans, int nchans, int control_fd, int master, int pidfd, pid_t cmd_pid,
           int pty_mode);

#endif
