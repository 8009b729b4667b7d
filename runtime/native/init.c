/*
 * PID 1 of every sandbox. Starts the agent and keeps it running (as envd is supervised on E2B):
 * when it dies (killed from inside, or by the OOM killer) it is started again after a short pause,
 * so a process inside never takes the sandbox and its files down. Forwards termination signals
 * to the agent and exits with its status once asked to stop. Reaps every orphan (a plain process
 * as PID 1 would leave zombies until the pids limit runs out).
 *
 * The agent's output and init's own go to LOG_FILE on the sandbox's /run tmpfs, never to the file
 * the host gave crun as stdio: what a sandbox writes stays inside its own limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

static pid_t start_agent(char **argv) {
    pid_t pid = fork();
    if (pid < 0) { perror("e2b-init: fork"); return -1; }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        /*
         * The OOM killer must take anything before init (a fork bomb once took init, and with it
         * the sandbox and its files). Lowering init's score needs a capability the host may not
         * have; raising one's own never does, so the agent and all it starts go above init.
         */
        int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (adj >= 0) { if (write(adj, OOM_SCORE_ADJ_BELOW_INIT, strlen(OOM_SCORE_ADJ_BELOW_INIT)) < 0) { /* keep init's */ } close(adj); }
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
    return pid;
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
