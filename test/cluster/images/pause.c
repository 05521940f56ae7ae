/* The pod sandbox's pause process: holds the pod's namespaces open, reaps orphans (it is PID 1 of the
 * sandbox) and exits at once on SIGTERM/SIGINT. busybox sleep cannot serve: as PID 1 it ignores SIGTERM,
 * so every pod deletion would wait for the kill timeout. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void exit_now(int signal_number) {
    (void)signal_number;
    _exit(0);
}

static void reap_children(int signal_number) {
    (void)signal_number;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    struct sigaction action = {0};
    action.sa_handler = exit_now;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    action.sa_handler = reap_children;
    action.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    sigaction(SIGCHLD, &action, NULL);
    for (;;) {
        pause();
    }
}
