/*
 * PID 1 of every sandbox. Starts the agent and keeps it running (as envd is supervised on E2B):
 * when it dies (killed from inside, or by the OOM killer) it is started again after a short pause,
 * so a process inside never takes the sandbox and its files down. Forwards termination signals
 * to the agent and exits with its status once asked to stop. Reaps every orphan (a plain process
 * as PID 1 would leave zombies until the pids limit runs out).
 *
 * The agent's output and init's own go to LOG_FILE on the sandbox's /run tmpfs, never to the file
 * the host gave crun as stdio: what a sandbox writes stays inside its own limits.
 *
 * Init holds the agent's listeners (the unix socket E2B_AGENT_SOCKET and TCP E2B_AGENT_PORT) and
 * hands them to the agent as fds AGENT_SOCKET_FD and AGENT_PORT_FD. An agent with nothing to do
 * exits with AGENT_SLEEP_STATUS (it was told to, in /init): init then waits until a listener has a
 * connection waiting and starts the agent again, which accepts it. An idle sandbox so costs init's
 * memory only, not the agent's.
 *
 * With each agent, init starts its command launcher (E2B_PTYEXEC --launcher), joined to the agent
 * by a Node IPC channel: the agent's fd AGENT_LAUNCHER_FD, named in NODE_CHANNEL_FD. The agent then
 * need not fork itself (tens of MB) to start it; the launcher ends when the agent does.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_DIR "/run/e2b-agent"
#define LOG_FILE LOG_DIR "/agent.log"
#define OOM_SCORE_ADJ_BELOW_INIT "500"
/*
 * Images pulled from a registry may have no glibc, or an older one than the host's Node needs.
 * Their root holds this marker (written by the runtime when it unpacks them), and the agent then
 * runs through the host's own loader and libraries, bind-mounted with the runtime's helpers.
 */
#define BUNDLED_LIBC_MARKER "/opt/e2b/.use-bundled-libc"
#define BUNDLED_LIBS "/opt/e2b/bin/node-libs"
#define BUNDLED_LOADER BUNDLED_LIBS "/ld.so"
#define DEFAULT_AGENT_PORT 49983
/* Where the agent finds the listeners (see agent/main.ts); both above stdio, never CLOEXEC there. */
#define AGENT_SOCKET_FD 3
#define AGENT_PORT_FD 4
#define AGENT_LAUNCHER_FD 5
/* The launcher's end of its channel to the agent. */
#define LAUNCHER_CHANNEL_FD 3
/* Init keeps its own copies out of the way of those numbers. */
#define HELD_FD_MIN 10
/* The agent's "idle: start me on the next connection" status (agent/idle-exit.ts). */
#define AGENT_SLEEP_STATUS 75

static int unix_listener = -1;
static int tcp_listener = -1;

static volatile pid_t agent_pid = 0;
static volatile sig_atomic_t stopping = 0;

static void forward(int sig) {
    stopping = 1;
    if (agent_pid > 0) kill(agent_pid, sig);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A line in the agent's log format, "[e2b-agent] <ISO time> message", which the logs API reads. */
__attribute__((format(printf, 1, 2))) static void log_line(const char *format, ...) {
    char stamp[32];
    time_t t = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&t));
    fprintf(stderr, "[e2b-agent] %s e2b-init: ", stamp);
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
}

/* stdout and stderr to the log inside the sandbox; /dev/null if that cannot be opened. */
static void redirect_output(void) {
    mkdir(LOG_DIR, 0700);
    int fd = open(LOG_FILE, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
}

static void nothing(int sig) { (void)sig; }

/* fd moved to HELD_FD_MIN or above, close-on-exec (init itself execs nothing); -1 stays -1. */
static int hold(int fd) {
    if (fd < 0) return -1;
    int held = fcntl(fd, F_DUPFD_CLOEXEC, HELD_FD_MIN);
    close(fd);
    return held;
}

static int listen_unix(const char *path) {
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path) { log_line("socket path too long: %s", path); return -1; }
    strcpy(addr.sun_path, path);
    char dir[sizeof addr.sun_path];
    strcpy(dir, path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) { *slash = 0; mkdir(dir, 0755); }
    if (unlink(path) < 0 && errno != ENOENT) { log_line("cannot remove a stale %s: %s", path, strerror(errno)); return -1; }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) { log_line("socket: %s", strerror(errno)); return -1; }
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
        log_line("cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* 0.0.0.0:port for the sandbox's own callers; a failure is logged, not fatal (the host needs only the socket). */
static int listen_tcp(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) { log_line("socket: %s", strerror(errno)); return -1; }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, SOMAXCONN) < 0) {
        log_line("cannot listen on 0.0.0.0:%d: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The listeners from the agent's environment. Without the socket, the agent binds its own as before. */
static void open_listeners(void) {
    const char *path = getenv("E2B_AGENT_SOCKET");
    if (!path || !*path) return;
    unix_listener = hold(listen_unix(path));
    if (unix_listener < 0) return;
    const char *port_text = getenv("E2B_AGENT_PORT");
    int port = port_text && *port_text ? atoi(port_text) : DEFAULT_AGENT_PORT;
    if (port > 0 && port < 65536) tcp_listener = hold(listen_tcp(port));
}

/* In the agent's child: the listeners at their fixed numbers, named in its environment. */
static void pass_listeners(void) {
    if (unix_listener < 0) return;
    if (dup2(unix_listener, AGENT_SOCKET_FD) < 0) { perror("e2b-init: dup2"); _exit(127); }
    setenv("E2B_AGENT_SOCKET_FD", "3", 1);
    if (tcp_listener >= 0) {
        if (dup2(tcp_listener, AGENT_PORT_FD) < 0) { perror("e2b-init: dup2"); _exit(127); }
        setenv("E2B_AGENT_PORT_FD", "4", 1);
    }
}

/*
 * The agent sleeps: reap orphans and wait for a connection on a listener. Signals stay blocked
 * but while in ppoll, so none is missed between the checks and the wait. 1 when one is waiting.
 */
static int sleep_until_connection(void) {
    sigset_t block, previous;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &previous);
    struct pollfd fds[2] = { { .fd = unix_listener, .events = POLLIN }, { .fd = tcp_listener, .events = POLLIN } };
    int woken = 0;
    while (!stopping) {
        while (waitpid(-1, NULL, WNOHANG) > 0) {}
        int ready = ppoll(fds, tcp_listener >= 0 ? 2 : 1, NULL, &previous);
        if (ready > 0) { woken = 1; break; }
        if (ready < 0 && errno != EINTR) { log_line("poll: %s", strerror(errno)); woken = 1; break; }
    }
    sigprocmask(SIG_SETMASK, &previous, NULL);
    return woken;
}

/* In a child of init: default signals, and an OOM score above init's. */
static void leave_init(void) {
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    /*
     * The OOM killer must take anything before init (a fork bomb once took init, and with it
     * the sandbox and its files). Lowering init's score needs a capability the host may not
     * have; raising one's own never does, so the agent and all it starts go above init.
     */
    int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (adj >= 0) { if (write(adj, OOM_SCORE_ADJ_BELOW_INIT, strlen(OOM_SCORE_ADJ_BELOW_INIT)) < 0) { /* keep init's */ } close(adj); }
}

/* fd at number `at`, inherited across exec; -1 on failure. */
static int place_fd(int fd, int at) {
    if (fd == at) return fcntl(fd, F_SETFD, 0);
    return dup2(fd, at) < 0 ? -1 : 0;
}

/*
 * Forks the launcher with its end of a new channel; returns the agent's end (held, close-on-exec),
 * or -1 when there is no launcher to start (the agent then starts its own, or spawns directly).
 */
static int start_launcher(void) {
    const char *helper = getenv("E2B_PTYEXEC");
    if (!helper || !*helper || access(helper, X_OK) != 0) return -1;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) { log_line("socketpair: %s", strerror(errno)); return -1; }
    pid_t pid = fork();
    if (pid == 0) {
        leave_init();
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || place_fd(null, 0) < 0 || place_fd(pair[1], LAUNCHER_CHANNEL_FD) < 0) _exit(127);
        setenv("NODE_CHANNEL_FD", "3", 1);
        execl(helper, helper, "--launcher", (char *)NULL);
        perror("e2b-init: execl (launcher)");
        _exit(127);
    }
    close(pair[1]);
    if (pid < 0) { log_line("fork: %s", strerror(errno)); close(pair[0]); return -1; }
    return hold(pair[0]);
}

static pid_t start_agent(char **argv) {
    int launcher_channel = start_launcher();
    pid_t pid = fork();
    if (pid < 0) perror("e2b-init: fork");
    if (pid == 0) {
        leave_init();
        pass_listeners();
        if (launcher_channel >= 0) {
            if (place_fd(launcher_channel, AGENT_LAUNCHER_FD) < 0) { perror("e2b-init: dup2"); _exit(127); }
            setenv("NODE_CHANNEL_FD", "5", 1);
            setenv("NODE_CHANNEL_SERIALIZATION_MODE", "json", 1);
        }
        if (access(BUNDLED_LIBC_MARKER, F_OK) == 0 && access(BUNDLED_LOADER, X_OK) == 0) {
            int n = 0;
            while (argv[1 + n]) n++;
            char *via_loader[n + 4];
            via_loader[0] = BUNDLED_LOADER;
            via_loader[1] = "--library-path";
            via_loader[2] = BUNDLED_LIBS;
            for (int i = 0; i <= n; i++) via_loader[3 + i] = argv[1 + i];
            execv(BUNDLED_LOADER, via_loader);
            perror("e2b-init: execv (bundled loader)");
        }
        execv(argv[1], argv + 1);
        perror("e2b-init: execv");
        _exit(127);
    }
    /* Init keeps no end: the launcher sees the channel close when the agent ends. */
    if (launcher_channel >= 0) close(launcher_channel);
    return pid < 0 ? -1 : pid;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: e2b-init PROGRAM [ARGS...]\n");
        return 2;
    }
    redirect_output();
    signal(SIGTERM, forward);
    signal(SIGINT, forward);
    signal(SIGHUP, forward);
    /* A handler, not SIG_DFL, so that a child's exit ends ppoll() while the agent sleeps. */
    signal(SIGCHLD, nothing);
    open_listeners();

    double started = now_seconds();
    unsigned delay_ms = 50;
    agent_pid = start_agent(argv);
    if (agent_pid < 0) return 1;
    for (;;) {
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (pid != agent_pid) continue;
        if (stopping) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (unix_listener >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == AGENT_SLEEP_STATUS) {
            agent_pid = 0;
            if (!sleep_until_connection()) return 0;
            delay_ms = 50;
            started = now_seconds();
            agent_pid = start_agent(argv);
            if (agent_pid < 0) return 1;
            continue;
        }
        /* Back off while it keeps dying at once; a run of a minute resets the pause. */
        if (now_seconds() - started > 60) delay_ms = 50;
        if (WIFSIGNALED(status)) log_line("the agent was killed by signal %d: starting it again", WTERMSIG(status));
        else log_line("the agent exited with %d: starting it again", WEXITSTATUS(status));
        struct timespec pause = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
        while (nanosleep(&pause, &pause) < 0 && errno == EINTR && !stopping) {}
        if (stopping) return 0;
        if (delay_ms < 2000) delay_ms *= 2;
        started = now_seconds();
        agent_pid = start_agent(argv);
        if (agent_pid < 0) return 1;
    }
}
