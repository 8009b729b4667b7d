/*
 * PID 1 of every sandbox. Starts the agent, forwards termination signals to it, and reaps every
 * orphan (a plain process as PID 1 would leave zombies until the pids limit runs out).
 * Exits with the agent's status when the agent ends.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t agent_pid = 0;

static void forward(int sig) {
    if (agent_pid > 0) kill(agent_pid, sig);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: e2b-init PROGRAM [ARGS...]\n");
        return 2;
    }
    signal(SIGTERM, forward);
    signal(SIGINT, forward);
    signal(SIGHUP, forward);

    agent_pid = fork();
    if (agent_pid < 0) { perror("fork"); return 1; }
    if (agent_pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        execv(argv[1], argv + 1);
        perror("execv");
        _exit(127);
    }
    for (;;) {
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (pid == agent_pid) {
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            return 128 + WTERMSIG(status);
        }
    }
}
