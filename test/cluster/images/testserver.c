/* netcheck test server: the backend for end-to-end tests. One static binary, no libraries.
 *
 *   HTTP on $HTTP_PORT (default 8080):
 *     GET /healthz        -> 200 always (readiness stays green while the app "fails")
 *     GET /status/<code>  -> that status code
 *     GET /delay/<ms>     -> waits <ms> milliseconds (at most 60000), then the default status
 *     anything else       -> $HTTP_STATUS (default 200)
 *     The body is one JSON line: {"hostname":"...","status":N,"path":"..."}
 *   TCP echo on $TCP_ECHO_PORT (default 9000): echoes bytes until the client closes.
 *   UDP echo on $UDP_ECHO_PORT (default 9001): sends every datagram back to its sender.
 * A port set to 0 disables that listener. SIGTERM/SIGINT exit at once (the server is PID 1).
 * Every HTTP request and TCP connection is logged to stdout, so tests can read who reached it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_LIMIT 8192
#define MAX_DELAY_MS 60000
#define CLIENT_TIMEOUT_SECONDS 30

static char hostname[256] = "unknown";
static int default_status = 200;

static void exit_now(int signal_number) {
    (void)signal_number;
    _exit(0);
}

static int port_from_env(const char *name, int fallback) {
    const char *value = getenv(name);
    if (value == NULL || *value == '\0') return fallback;
    char *end = NULL;
    long port = strtol(value, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535) {
        fprintf(stderr, "invalid %s=%s\n", name, value);
        exit(2);
    }
    return (int)port;
}

static int listen_on(int type, int port) {
    int fd = socket(AF_INET, type, 0);
    if (fd < 0) { perror("socket"); exit(1); }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    address.sin_port = htons((unsigned short)port);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) { perror("bind"); exit(1); }
    if (type == SOCK_STREAM && listen(fd, 128) < 0) { perror("listen"); exit(1); }
    return fd;
}

static void set_client_timeout(int fd) {
    struct timeval timeout = {CLIENT_TIMEOUT_SECONDS, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

static int write_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t written = write(fd, data, length);
        if (written < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += written;
        length -= (size_t)written;
    }
    return 0;
}

static const char *reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 201: return "Created";
        case 204: return "No Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "Status";
    }
}

/* Copies the path into a JSON string body, dropping characters that would need escaping. */
static void json_safe_copy(char *target, size_t capacity, const char *source) {
    size_t used = 0;
    for (; *source != '\0' && used + 1 < capacity; source++) {
        unsigned char c = (unsigned char)*source;
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) continue;
        target[used++] = (char)c;
    }
    target[used] = '\0';
}

static void serve_http(int fd, const char *peer) {
    char request[REQUEST_LIMIT + 1];
    size_t used = 0;
    while (used < REQUEST_LIMIT) {
        ssize_t got = read(fd, request + used, REQUEST_LIMIT - used);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        used += (size_t)got;
        request[used] = '\0';
        if (strstr(request, "\r\n\r\n") != NULL || strstr(request, "\n\n") != NULL) break;
    }
    request[used] = '\0';
    char method[16] = "", raw_path[2048] = "";
    if (sscanf(request, "%15s %2047s", method, raw_path) != 2) {
        printf("http %s bad-request\n", peer);
        const char *bad = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        write_all(fd, bad, strlen(bad));
        return;
    }
    int status = default_status;
    if (strcmp(raw_path, "/healthz") == 0) {
        status = 200;
    } else if (strncmp(raw_path, "/status/", 8) == 0) {
        int requested = atoi(raw_path + 8);
        if (requested >= 100 && requested <= 599) status = requested;
    } else if (strncmp(raw_path, "/delay/", 7) == 0) {
        long delay_ms = atol(raw_path + 7);
        if (delay_ms < 0) delay_ms = 0;
        if (delay_ms > MAX_DELAY_MS) delay_ms = MAX_DELAY_MS;
        struct timespec pause_for = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
        nanosleep(&pause_for, NULL);
    }
    char path[2048];
    json_safe_copy(path, sizeof path, raw_path);
    char body[4096];
    int body_length = snprintf(body, sizeof body, "{\"hostname\":\"%s\",\"status\":%d,\"path\":\"%s\"}\n",
                               hostname, status, path);
    char head[512];
    int head_length = snprintf(head, sizeof head,
                               "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                               "Connection: close\r\n\r\n",
                               status, reason_phrase(status), body_length);
    printf("http %s %s %s %d\n", peer, method, path, status);
    write_all(fd, head, (size_t)head_length);
    if (strcmp(method, "HEAD") != 0) write_all(fd, body, (size_t)body_length);
}

static void serve_tcp_echo(int fd, const char *peer) {
    char buffer[16384];
    size_t total = 0;
    for (;;) {
        ssize_t got = read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        if (write_all(fd, buffer, (size_t)got) < 0) break;
        total += (size_t)got;
    }
    printf("tcp-echo %s %zu bytes\n", peer, total);
}

static void handle_connection(int listener, int is_http) {
    struct sockaddr_in peer_address;
    socklen_t peer_length = sizeof peer_address;
    int fd = accept(listener, (struct sockaddr *)&peer_address, &peer_length);
    if (fd < 0) return;
    pid_t child = fork();
    if (child == 0) {
        char peer[64];
        snprintf(peer, sizeof peer, "%s:%d", inet_ntoa(peer_address.sin_addr), ntohs(peer_address.sin_port));
        set_client_timeout(fd);
        if (is_http) serve_http(fd, peer); else serve_tcp_echo(fd, peer);
        fflush(stdout);
        shutdown(fd, SHUT_WR);
        close(fd);
        _exit(0);
    }
    close(fd);
}

static void handle_datagram(int fd) {
    char buffer[65536];
    struct sockaddr_in peer_address;
    socklen_t peer_length = sizeof peer_address;
    ssize_t got = recvfrom(fd, buffer, sizeof buffer, 0, (struct sockaddr *)&peer_address, &peer_length);
    if (got < 0) return;
    sendto(fd, buffer, (size_t)got, 0, (struct sockaddr *)&peer_address, peer_length);
    printf("udp-echo %s:%d %zd bytes\n", inet_ntoa(peer_address.sin_addr), ntohs(peer_address.sin_port), got);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction action = {0};
    action.sa_handler = exit_now;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    /* Children reap themselves: no zombies, no SIGCHLD handling. */
    action.sa_handler = SIG_IGN;
    action.sa_flags = SA_NOCLDWAIT;
    sigaction(SIGCHLD, &action, NULL);
    signal(SIGPIPE, SIG_IGN);

    gethostname(hostname, sizeof hostname - 1);
    const char *status_text = getenv("HTTP_STATUS");
    if (status_text != NULL && *status_text != '\0') {
        default_status = atoi(status_text);
        if (default_status < 100 || default_status > 599) {
            fprintf(stderr, "invalid HTTP_STATUS=%s\n", status_text);
            return 2;
        }
    }
    int http_port = port_from_env("HTTP_PORT", 8080);
    int tcp_port = port_from_env("TCP_ECHO_PORT", 9000);
    int udp_port = port_from_env("UDP_ECHO_PORT", 9001);

    struct pollfd watched[3];
    int kinds[3]; /* 0 http, 1 tcp echo, 2 udp echo */
    int count = 0;
    if (http_port > 0) { watched[count].fd = listen_on(SOCK_STREAM, http_port); kinds[count++] = 0; }
    if (tcp_port > 0) { watched[count].fd = listen_on(SOCK_STREAM, tcp_port); kinds[count++] = 1; }
    if (udp_port > 0) { watched[count].fd = listen_on(SOCK_DGRAM, udp_port); kinds[count++] = 2; }
    for (int i = 0; i < count; i++) watched[i].events = POLLIN;
    printf("testserver on %s: http=%d tcp-echo=%d udp-echo=%d default-status=%d\n", hostname, http_port,
           tcp_port, udp_port, default_status);
    if (count == 0) {
        for (;;) pause();
    }
    for (;;) {
        if (poll(watched, (nfds_t)count, -1) < 0) {
            if (errno == EINTR) continue;
            perror("poll");
            return 1;
        }
        for (int i = 0; i < count; i++) {
            if (!(watched[i].revents & POLLIN)) continue;
            if (kinds[i] == 2) handle_datagram(watched[i].fd);
            else handle_connection(watched[i].fd, kinds[i] == 0);
        }
    }
}
