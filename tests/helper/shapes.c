/*
 * shapes.c - a test helper with known memory shapes (Linux only).
 *
 * Build: cc -O2 -Wall -Wextra -o shapes tests/helper/shapes.c
 *
 * Every mode allocates with mmap(MAP_PRIVATE|MAP_ANONYMOUS) and writes to
 * every page so the memory is really resident, and frees with munmap.
 *
 * If the environment variable SHAPES_TRUTH names a file, one process (named
 * per mode below) writes exactly one line "truth_kib N\n" to it just before
 * it exits, with the kernel's own figure for the true peak of the whole
 * process tree, read from /proc/self/status (VmHWM / VmRSS, in kB).
 *
 * Usage: shapes MODE ARGS...   (MiB = 1048576 bytes, MS = milliseconds)
 *   idle MS                             truth: own VmHWM
 *   spike MIB BEFORE_MS AFTER_MS        truth: own VmHWM
 *   held_spike HELD_MIB SPIKE_MIB MS    truth: own VmHWM
 *   tree N MIB MS                       truth: parent VmRSS + sum of children's VmRSS
 *   cow MIB N MS                        truth: parent VmHWM (buffer counted once)
 *   orphan MIB MS                       truth: the orphaned grandchild's VmHWM
 *   grow MIB MS                         truth: own VmHWM
 *   hold MIB MS                         truth: own VmHWM
 *   sleeptree N PIDFILE                 (no truth) sleeps forever
 *   daemon MS PIDFILE                   (no truth)
 *   burn MS                             appends "cpu_us N" (own user+system CPU) to
 *                                       $SHAPES_CPU when set
 *   exit CODE                           (no truth)
 *
 * Any failing system call prints a message to stderr and exits with 1.
 * Bad usage exits with 2.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB ((size_t)1048576)
#define PAGE ((size_t)4096)

static const char *prog = "shapes";

static void die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
    exit(1);
}

static void die_msg(const char *what)
{
    fprintf(stderr, "%s: %s\n", prog, what);
    exit(1);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: %s MODE ARGS...\n"
            "  idle MS\n"
            "  spike MIB BEFORE_MS AFTER_MS\n"
            "  held_spike HELD_MIB SPIKE_MIB MS\n"
            "  tree N MIB MS\n"
            "  cow MIB N MS\n"
            "  orphan MIB MS\n"
            "  grow MIB MS\n"
            "  hold MIB MS\n"
            "  sleeptree N PIDFILE\n"
            "  daemon MS PIDFILE\n"
            "  burn MS\n"
            "  exit CODE\n",
            prog);
    exit(2);
}

static long parse_num(const char *s, const char *name)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0) {
        fprintf(stderr, "%s: invalid %s: '%s'\n", prog, name, s);
        exit(2);
    }
    return v;
}

static void need_args(int argc, int n)
{
    if (argc != n + 2)
        usage();
}

/* ---- time ---------------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec req, rem;
    req.tv_sec = ms / 1000;
    req.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&req, &rem) != 0) {
        if (errno != EINTR)
            die("nanosleep");
        req = rem;
    }
}

static double now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die("clock_gettime");
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- memory -------------------------------------------------------------- */

/* Map `mib` MiB of anonymous memory and write to every page. */
static char *touch(long mib)
{
    size_t len = (size_t)mib * MIB;
    if (len == 0)
        return NULL;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap");
    memset(p, 0xA5, len);
    return (char *)p;
}

static void release(char *p, long mib)
{
    if (p == NULL)
        return;
    if (munmap(p, (size_t)mib * MIB) != 0)
        die("munmap");
}

/* Read every page without writing (for copy-on-write sharing). */
static unsigned long read_pages(const char *p, long mib)
{
    const volatile char *v = (const volatile char *)p;
    size_t len = (size_t)mib * MIB;
    unsigned long sum = 0;
    for (size_t off = 0; off < len; off += PAGE)
        sum += (unsigned char)v[off];
    return sum;
}

/* A field of /proc/self/status in kB ("VmHWM", "VmRSS"). */
static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        die("open /proc/self/status");
    char line[256];
    size_t klen = strlen(key);
    long val = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            char *end = NULL;
            errno = 0;
            val = strtol(line + klen + 1, &end, 10);
            if (errno != 0 || end == line + klen + 1)
                val = -1;
            break;
        }
    }
    if (ferror(f))
        die("read /proc/self/status");
    if (fclose(f) != 0)
        die("close /proc/self/status");
    if (val < 0) {
        fprintf(stderr, "%s: no %s in /proc/self/status\n", prog, key);
        exit(1);
    }
    return val;
}

/* ---- I/O ----------------------------------------------------------------- */

static void write_all(int fd, const void *buf, size_t len, const char *what)
{
    const char *b = buf;
    while (len > 0) {
        ssize_t n = write(fd, b, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die(what);
        }
        b += n;
        len -= (size_t)n;
    }
}

static void read_all(int fd, void *buf, size_t len, const char *what)
{
    char *b = buf;
    while (len > 0) {
        ssize_t n = read(fd, b, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die(what);
        }
        if (n == 0)
            die_msg("unexpected end of pipe");
        b += n;
        len -= (size_t)n;
    }
}

static void write_truth(long kib)
{
    const char *path = getenv("SHAPES_TRUTH");
    if (path == NULL || *path == '\0')
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open SHAPES_TRUTH");
    char line[64];
    int n = snprintf(line, sizeof line, "truth_kib %ld\n", kib);
    write_all(fd, line, (size_t)n, "write SHAPES_TRUTH");
    if (close(fd) != 0)
        die("close SHAPES_TRUTH");
}

/* Append "PID\n" to `path` with a single write(). */
static void append_pid(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open PIDFILE");
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    ssize_t w = write(fd, line, (size_t)n);
    if (w < 0)
        die("write PIDFILE");
    if (w != n)
        die_msg("short write to PIDFILE");
    if (close(fd) != 0)
        die("close PIDFILE");
}

static void flush_stdio(void)
{
    /* Avoid duplicated buffered output in forked children. */
    if (fflush(NULL) != 0)
        die("fflush");
}

static pid_t xfork(void)
{
    flush_stdio();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    return pid;
}

/* Wait for `pid`; fail unless it exited with status 0. */
static void wait_ok(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            die("waitpid");
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s: child %ld failed (status 0x%x)\n", prog,
                (long)pid, (unsigned)st);
        exit(1);
    }
}

static void sleep_forever(void)
{
    for (;;)
        pause();
}

/* ---- modes --------------------------------------------------------------- */

static int mode_idle(long ms)
{
    sleep_ms(ms);
    write_truth(status_kib("VmHWM"));
    return 0;
}

static int mode_spike(long mib, long before_ms, long after_ms)
{
    sleep_ms(before_ms);
    char *p = touch(mib);
    release(p, mib);
    sleep_ms(after_ms);
    write_truth(status_kib("VmHWM"));
    return 0;
}

static int mode_held_spike(long held_mib, long spike_mib, long ms)
{
    char *held = touch(held_mib);
    char *spike = touch(spike_mib);
    release(spike, spike_mib);
    sleep_ms(ms);
    write_truth(status_kib("VmHWM"));
    release(held, held_mib);
    return 0;
}

static int mode_tree(long n, long mib, long ms)
{
    int report[2], barrier[2];
    if (pipe(report) != 0 || pipe(barrier) != 0)
        die("pipe");
    pid_t *pids = calloc((size_t)(n > 0 ? n : 1), sizeof *pids);
    if (pids == NULL)
        die("calloc");

    for (long i = 0; i < n; i++) {
        pid_t pid = xfork();
        if (pid == 0) {
            if (close(report[0]) != 0 || close(barrier[1]) != 0)
                die("close");
            char *p = touch(mib);
            long rss = status_kib("VmRSS");
            write_all(report[1], &rss, sizeof rss, "write report pipe");
            char go;
            read_all(barrier[0], &go, 1, "read barrier pipe");
            sleep_ms(ms);
            release(p, mib);
            _exit(0);
        }
        pids[i] = pid;
    }
    if (close(report[1]) != 0 || close(barrier[0]) != 0)
        die("close");

    long sum = 0;
    for (long i = 0; i < n; i++) {
        long rss;
        read_all(report[0], &rss, sizeof rss, "read report pipe");
        sum += rss;
    }
    for (long i = 0; i < n; i++) {
        char go = 'g';
        write_all(barrier[1], &go, 1, "write barrier pipe");
    }
    for (long i = 0; i < n; i++)
        wait_ok(pids[i]);
    if (close(report[0]) != 0 || close(barrier[1]) != 0)
        die("close");
    free(pids);
    write_truth(status_kib("VmRSS") + sum);
    return 0;
}

static int mode_cow(long mib, long n, long ms)
{
    char *buf = touch(mib);
    pid_t *pids = calloc((size_t)(n > 0 ? n : 1), sizeof *pids);
    if (pids == NULL)
        die("calloc");
    for (long i = 0; i < n; i++) {
        pid_t pid = xfork();
        if (pid == 0) {
            unsigned long sum = read_pages(buf, mib);
            if (sum == 1) /* never true; keeps the read observable */
                fprintf(stderr, "%s: impossible sum\n", prog);
            sleep_ms(ms);
            _exit(0);
        }
        pids[i] = pid;
    }
    for (long i = 0; i < n; i++)
        wait_ok(pids[i]);
    free(pids);
    write_truth(status_kib("VmHWM"));
    release(buf, mib);
    return 0;
}

static int mode_orphan(long mib, long ms)
{
    pid_t child = xfork();
    if (child == 0) {
        pid_t grand = xfork();
        if (grand == 0) {
            sleep_ms(50);
            char *p = touch(mib);
            sleep_ms(ms);
            write_truth(status_kib("VmHWM"));
            release(p, mib);
            _exit(0);
        }
        _exit(0);
    }
    wait_ok(child);
    return 0;
}

static int mode_grow(long mib, long ms)
{
    char **steps = calloc((size_t)(mib > 0 ? mib : 1), sizeof *steps);
    if (steps == NULL)
        die("calloc");
    double start = now_ms();
    for (long i = 0; i < mib; i++) {
        steps[i] = touch(1);
        /* Pace the steps so step i+1 ends at about (i+1)/mib * ms. */
        double target = start + (double)ms * (double)(i + 1) / (double)mib;
        double left = target - now_ms();
        if (left > 0)
            sleep_ms((long)left);
    }
    sleep_ms(100);
    write_truth(status_kib("VmHWM"));
    for (long i = 0; i < mib; i++)
        release(steps[i], 1);
    free(steps);
    return 0;
}

static int mode_hold(long mib, long ms)
{
    char *p = touch(mib);
    sleep_ms(ms);
    write_truth(status_kib("VmHWM"));
    release(p, mib);
    return 0;
}

static int mode_sleeptree(long n, const char *pidfile)
{
    append_pid(pidfile);
    for (long i = 0; i < n; i++) {
        pid_t pid = xfork();
        if (pid == 0) {
            append_pid(pidfile);
            pid_t g = xfork();
            if (g == 0) {
                append_pid(pidfile);
                sleep_forever();
            }
            sleep_forever();
        }
    }
    sleep_forever();
    return 0;
}

static int mode_daemon(long ms, const char *pidfile)
{
    pid_t child = xfork();
    if (child == 0) {
        if (setsid() < 0)
            die("setsid");
        pid_t d = xfork();
        if (d != 0)
            _exit(0); /* first child exits */
        /* The daemon: detach from the caller's terminal and pipes. */
        umask(022);
        append_pid(pidfile); /* before chdir, so a relative path works */
        if (chdir("/") != 0)
            die("chdir /");
        int nul = open("/dev/null", O_RDWR);
        if (nul < 0)
            die("open /dev/null");
        if (dup2(nul, STDIN_FILENO) < 0 || dup2(nul, STDOUT_FILENO) < 0 ||
            dup2(nul, STDERR_FILENO) < 0)
            die("dup2");
        if (nul > STDERR_FILENO && close(nul) != 0)
            die("close");
        sleep_ms(ms);
        _exit(0);
    }
    wait_ok(child);
    return 0;
}

static int mode_burn(long ms)
{
    double end = now_ms() + (double)ms;
    volatile unsigned long spin = 0;
    while (now_ms() < end)
        spin++;
    const char *path = getenv("SHAPES_CPU");
    if (path) {
        struct rusage self;
        if (getrusage(RUSAGE_SELF, &self) != 0)
            die("getrusage");
        long us = (long)(self.ru_utime.tv_sec + self.ru_stime.tv_sec) * 1000000L +
                  (long)(self.ru_utime.tv_usec + self.ru_stime.tv_usec);
        char line[64];
        int len = snprintf(line, sizeof line, "cpu_us %ld\n", us);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
            die("open SHAPES_CPU");
        write_all(fd, line, (size_t)len, "write SHAPES_CPU");
        close(fd);
    }
    return 0;
}

static int mode_exit(long code)
{
    fputs("failing on purpose\n", stderr);
    return (int)code;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *m = argv[1];
    char **a = argv + 2;

    if (strcmp(m, "idle") == 0) {
        need_args(argc, 1);
        return mode_idle(parse_num(a[0], "MS"));
    } else if (strcmp(m, "spike") == 0) {
        need_args(argc, 3);
        return mode_spike(parse_num(a[0], "MIB"), parse_num(a[1], "BEFORE_MS"),
                          parse_num(a[2], "AFTER_MS"));
    } else if (strcmp(m, "held_spike") == 0) {
        need_args(argc, 3);
        return mode_held_spike(parse_num(a[0], "HELD_MIB"),
                               parse_num(a[1], "SPIKE_MIB"),
                               parse_num(a[2], "MS"));
    } else if (strcmp(m, "tree") == 0) {
        need_args(argc, 3);
        return mode_tree(parse_num(a[0], "N"), parse_num(a[1], "MIB"),
                         parse_num(a[2], "MS"));
    } else if (strcmp(m, "cow") == 0) {
        need_args(argc, 3);
        return mode_cow(parse_num(a[0], "MIB"), parse_num(a[1], "N"),
                        parse_num(a[2], "MS"));
    } else if (strcmp(m, "orphan") == 0) {
        need_args(argc, 2);
        return mode_orphan(parse_num(a[0], "MIB"), parse_num(a[1], "MS"));
    } else if (strcmp(m, "grow") == 0) {
        need_args(argc, 2);
        return mode_grow(parse_num(a[0], "MIB"), parse_num(a[1], "MS"));
    } else if (strcmp(m, "hold") == 0) {
        need_args(argc, 2);
        return mode_hold(parse_num(a[0], "MIB"), parse_num(a[1], "MS"));
    } else if (strcmp(m, "sleeptree") == 0) {
        need_args(argc, 2);
        return mode_sleeptree(parse_num(a[0], "N"), a[1]);
    } else if (strcmp(m, "daemon") == 0) {
        need_args(argc, 2);
        return mode_daemon(parse_num(a[0], "MS"), a[1]);
    } else if (strcmp(m, "burn") == 0) {
        need_args(argc, 1);
        return mode_burn(parse_num(a[0], "MS"));
    } else if (strcmp(m, "exit") == 0) {
        need_args(argc, 1);
        return mode_exit(parse_num(a[0], "CODE"));
    }
    fprintf(stderr, "%s: unknown mode '%s'\n", prog, m);
    usage();
    return 2;
}
