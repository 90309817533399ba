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
 *   vfork MIB MS                        holds MIB, then vforks a child that waits
 *                                       MS in the parent's memory before it execs
 *                                       `sleep 1`; truth: own VmHWM
 *   sleeptree N PIDFILE                 (no truth) sleeps forever
 *   daemon MS PIDFILE                   (no truth)
 *   burn MS                             appends "cpu_us N" (own user+system CPU) to
 *                                       $SHAPES_CPU when set
 *   exit CODE                           (no truth)
 *   watch OUTFILE [--] CMD ARGS...      runs CMD and measures its tree (below)
 *
 * watch is the independent judge of benches/exact.py. It becomes a child
 * subreaper (so orphans stay in its tree), forks and execs CMD, and then
 * loops as fast as it can until the whole tree is gone: walk every
 * descendant (through /proc/PID/task/TID/children), read each live one's
 * /proc/PID/smaps_rollup "Pss:", walk again. If the tree changed meanwhile (a
 * process came or went, turned zombie or started exiting, or changed its
 * name by exec), the sample is dropped, since PSS moved between processes
 * read and not yet read; else the sample is the sum. It reaps every child,
 * and at the end appends to OUTFILE, with one write(), a group of lines
 * ended by an empty line (kB = 1024 bytes, as in /proc):
 *   truth_kib N              the largest kept sample: the tree's peak PSS
 *   samples N                samples kept
 *   dropped N                samples dropped because the tree changed
 *   self_pss_kib N           watch's own PSS at the end (a tree measured
 *                            from outside includes watch itself)
 *   self_pss_at_truth_kib N  watch's own PSS when truth_kib was sampled
 *   max_rss_kib N            the largest ru_maxrss of the processes it reaped
 *                            (the kernel's high-water mark of the largest
 *                            single process, shared pages counted whole)
 *   procs N                  live processes in the truth_kib sample
 *   truth_at_ms N            when truth_kib was sampled, from the fork of CMD
 *   wall_ms N                from the fork of CMD to the end
 *   cpu_ms N                 watch's own user + system CPU time
 *   exit N                   CMD's exit status (128 + signal if killed)
 * and exits with CMD's exit status.
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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
            "  vfork MIB MS\n"
            "  sleeptree N PIDFILE\n"
            "  daemon MS PIDFILE\n"
            "  burn MS\n"
            "  exit CODE\n"
            "  watch OUTFILE [--] CMD ARGS...\n",
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

/* Writes `buf` with one write() (groups appended by processes one after another
 * then stay whole), and closes `fd`; `what` names the file in messages. */
static void write_once_and_close(int fd, const char *buf, size_t len, const char *what)
{
    char msg[64];
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
        snprintf(msg, sizeof msg, "write %s", what);
        die(msg);
    }
    if ((size_t)n != len) {
        snprintf(msg, sizeof msg, "short write to %s", what);
        die_msg(msg);
    }
    if (close(fd) != 0) {
        snprintf(msg, sizeof msg, "close %s", what);
        die(msg);
    }
}

/* Append "PID\n" to `path` with a single write(). */
static void append_pid(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open PIDFILE");
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    write_once_and_close(fd, line, (size_t)n, "PIDFILE");
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

static int mode_vfork(long mib, long ms)
{
    char *p = touch(mib);
    pid_t pid = vfork();
    if (pid < 0)
        die("vfork");
    if (pid == 0) {
        /* Only system calls here: the child runs in the parent's memory. */
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        execl("/bin/sleep", "sleep", "1", (char *)NULL);
        _exit(127);
    }
    wait_ok(pid);
    long hwm = status_kib("VmHWM");
    release(p, mib);
    write_truth(hwm);
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

/* ---- watch --------------------------------------------------------------- */

/*
 * What watch does is in the header. It is written for density: each
 * process's stat and children files are opened once and re-read with pread,
 * and the walk after one sample's reads is the next sample's first walk
 * unless a child was reaped in between.
 */

/* One descendant and its kept-open /proc files, re-read with pread. */
struct wproc {
    pid_t pid;
    int stat_fd;
    int tasks_fd;     /* /proc/PID/task, opened when a process has threads */
    int ntids;
    pid_t *tids;      /* the threads `children` is open for */
    int *children_fd; /* /proc/PID/task/TID/children, one per thread */
    unsigned long seen; /* the walk that last found it */
};

/*
 * What a walk finds of one process. A process in exit or a zombie is "dead":
 * it unmaps its pages while its siblings' shares of them grow, so it must
 * not turn dead between two walks of a kept sample. The name catches an
 * exec (a fork's copy becoming another program) between the walks.
 */
struct wseen {
    pid_t pid;
    int alive;
    uint32_t name;
};

struct watch {
    struct wproc *procs; /* sorted by pid */
    size_t nprocs, cap;
    unsigned long walk;
    pid_t *queue;
    size_t qcap;
    char *buf;
    size_t bufcap;
    int self_children_fd;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        die("realloc");
    return q;
}

/* An open /proc file that stays open for re-reads, -1 if the process is gone. */
static int open_proc(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE))
        die("open (raise the limit on open files: ulimit -n)");
    return fd;
}

/* Read a whole /proc file from offset 0 into w->buf; its length, or -1. */
static ssize_t pread_all(struct watch *w, int fd)
{
    for (;;) {
        ssize_t n = pread(fd, w->buf, w->bufcap - 1, 0);
        if (n < 0)
            return -1;
        if ((size_t)n < w->bufcap - 1) {
            w->buf[n] = '\0';
            return n;
        }
        w->bufcap *= 2;
        w->buf = xrealloc(w->buf, w->bufcap);
    }
}

static void close_children(struct wproc *p)
{
    for (int i = 0; i < p->ntids; i++)
        close(p->children_fd[i]);
    free(p->tids);
    free(p->children_fd);
    p->tids = NULL;
    p->children_fd = NULL;
    p->ntids = 0;
}

static void forget(struct wproc *p)
{
    close(p->stat_fd);
    if (p->tasks_fd >= 0)
        close(p->tasks_fd);
    close_children(p);
}

/* The index of `pid` in w->procs, or where it would go. */
static size_t find(const struct watch *w, pid_t pid)
{
    size_t lo = 0, hi = w->nprocs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->procs[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The record of `pid`, opened if new; NULL if the process is gone. */
static struct wproc *lookup(struct watch *w, pid_t pid)
{
    size_t i = find(w, pid);
    if (i < w->nprocs && w->procs[i].pid == pid)
        return &w->procs[i];
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open_proc(path);
    if (fd < 0)
        return NULL;
    if (w->nprocs == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 64;
        w->procs = xrealloc(w->procs, w->cap * sizeof *w->procs);
    }
    memmove(&w->procs[i + 1], &w->procs[i], (w->nprocs - i) * sizeof *w->procs);
    w->nprocs++;
    struct wproc *p = &w->procs[i];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->stat_fd = fd;
    p->tasks_fd = -1;
    return p;
}

/* Drop `pid`'s record: its kept files may belong to a process now gone. */
static void drop(struct watch *w, pid_t pid)
{
    size_t i = find(w, pid);
    if (i == w->nprocs || w->procs[i].pid != pid)
        return;
    forget(&w->procs[i]);
    memmove(&w->procs[i], &w->procs[i + 1], (w->nprocs - i - 1) * sizeof *w->procs);
    w->nprocs--;
}

static void push_pids(struct watch *w, size_t *n, const char *text)
{
    for (const char *s = text; *s != '\0';) {
        char *end = NULL;
        long v = strtol(s, &end, 10);
        if (end == s) {
            s++;
            continue;
        }
        if (*n == w->qcap) {
            w->qcap *= 2;
            w->queue = xrealloc(w->queue, w->qcap * sizeof *w->queue);
        }
        w->queue[(*n)++] = (pid_t)v;
        s = end;
    }
}

/* The layout getdents64 fills (glibc declares no such struct). */
struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/*
 * Opens `children` for each thread of `p` when the threads changed. A process
 * with one thread is taken to be its main thread, so it is listed only once;
 * the thread list is read with getdents64 into the shared buffer rather than
 * through a DIR, whose own 32 KiB buffer per process would swell the watcher.
 */
static int refresh_threads(struct watch *w, struct wproc *p, long threads)
{
    char path[96];
    pid_t *tids = NULL;
    int n = 0, cap = 0;
    if (threads == 1) {
        if (p->ntids == 1 && p->tids[0] == p->pid)
            return 0;
        tids = xrealloc(NULL, sizeof *tids);
        tids[n++] = p->pid;
    } else {
        if (p->tasks_fd < 0) {
            snprintf(path, sizeof path, "/proc/%ld/task", (long)p->pid);
            p->tasks_fd = open_proc(path);
            if (p->tasks_fd < 0)
                return -1;
        }
        if (lseek(p->tasks_fd, 0, SEEK_SET) < 0)
            return -1;
        for (;;) {
            long got = syscall(SYS_getdents64, p->tasks_fd, w->buf, w->bufcap);
            if (got < 0) {
                free(tids);
                return -1;
            }
            if (got == 0)
                break;
            for (long off = 0; off < got;) {
                struct linux_dirent64 *d = (struct linux_dirent64 *)(w->buf + off);
                off += d->d_reclen;
                if (d->d_name[0] < '0' || d->d_name[0] > '9')
                    continue;
                if (n == cap) {
                    cap = cap ? 2 * cap : 4;
                    tids = xrealloc(tids, (size_t)cap * sizeof *tids);
                }
                tids[n++] = (pid_t)strtol(d->d_name, NULL, 10);
            }
        }
        if (n == 0) {
            free(tids);
            return -1;
        }
    }
    if (n == p->ntids && memcmp(tids, p->tids, (size_t)n * sizeof *tids) == 0) {
        free(tids);
        return 0;
    }
    close_children(p);
    p->tids = tids;
    p->children_fd = xrealloc(NULL, (size_t)n * sizeof *p->children_fd);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", (long)p->pid,
                 (long)tids[i]);
        int fd = open_proc(path);
        if (fd < 0)
            return -1;
        p->children_fd[i] = fd;
        p->ntids = i + 1;
    }
    return 0;
}

/* The liveness, name and thread count from /proc/PID/stat; -1 if gone. */
static int read_stat(struct watch *w, struct wproc *p, struct wseen *s, long *threads)
{
    if (pread_all(w, p->stat_fd) <= 0)
        return -1;
    char *open_paren = strchr(w->buf, '(');
    char *close_paren = strrchr(w->buf, ')');
    if (open_paren == NULL || close_paren == NULL || close_paren < open_paren)
        return -1;
    uint32_t h = 2166136261u; /* FNV-1a of the name */
    for (const char *c = open_paren + 1; c < close_paren; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    /* Fields from 3 (state) on, counted after the name. */
    char state = '?';
    unsigned long flags = 0;
    long nthreads = 0;
    char *f = close_paren + 1;
    for (int field = 3; field <= 20; field++) {
        while (*f == ' ')
            f++;
        if (*f == '\0')
            return -1;
        if (field == 3)
            state = *f;
        else if (field == 9)
            flags = strtoul(f, NULL, 10);
        else if (field == 20)
            nthreads = strtol(f, NULL, 10);
        while (*f != ' ' && *f != '\0')
            f++;
    }
    const unsigned long PF_EXITING = 0x4;
    s->pid = p->pid;
    s->name = h;
    s->alive = state != 'Z' && state != 'X' && !(flags & PF_EXITING);
    *threads = nthreads;
    return 0;
}

static int cmp_seen(const void *a, const void *b)
{
    const struct wseen *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/*
 * Walks every descendant through the `children` files, into *set (sorted by
 * pid); returns how many were found. Records of processes no longer in the
 * tree are dropped.
 */
static size_t walk_tree(struct watch *w, struct wseen **set, size_t *setcap)
{
    w->walk++;
    size_t n = 0, next = 0, found = 0;
    if (pread_all(w, w->self_children_fd) < 0)
        die("read /proc/self/task/.../children");
    push_pids(w, &n, w->buf);
    while (next < n) {
        pid_t pid = w->queue[next++];
        if (found == *setcap) {
            *setcap *= 2;
            *set = xrealloc(*set, *setcap * sizeof **set);
        }
        struct wseen *s = &(*set)[found++];
        s->pid = pid;
        s->alive = 0;
        s->name = 0;
        struct wproc *p = lookup(w, pid);
        long threads = 0;
        if (p == NULL)
            continue; /* gone between its parent's list and now */
        if (read_stat(w, p, s, &threads) != 0) {
            /* Gone, or its pid reused: the kept file is the old one's. */
            drop(w, pid);
            continue;
        }
        p->seen = w->walk;
        /* A process in exit still lists its children until they are handed
         * to the subreaper; a zombie lists none. */
        if (refresh_threads(w, p, threads) != 0) {
            close_children(p); /* list the threads afresh next time */
            s->alive = 0;      /* so this sample is dropped */
            continue;
        }
        for (int t = 0; t < p->ntids; t++) {
            if (pread_all(w, p->children_fd[t]) >= 0)
                push_pids(w, &n, w->buf);
        }
    }
    /* Forget the processes this walk did not find. */
    size_t kept = 0;
    for (size_t i = 0; i < w->nprocs; i++) {
        if (w->procs[i].seen == w->walk)
            w->procs[kept++] = w->procs[i];
        else
            forget(&w->procs[i]);
    }
    w->nprocs = kept;
    qsort(*set, found, sizeof **set, cmp_seen);
    return found;
}

/* The `Pss:` line of a smaps_rollup text, in kB; -1 if there is none. */
static long pss_field(const char *text)
{
    const char *at = strstr(text, "\nPss:");
    if (at == NULL)
        return -1;
    char *end = NULL;
    long v = strtol(at + 5, &end, 10);
    return end == at + 5 ? -1 : v;
}

/*
 * The PSS of a live process in kB, -1 if it could not be read. Unlike the
 * other /proc files, smaps_rollup is opened afresh for every read: an open
 * one holds the memory map it was opened on, which after an exec is gone
 * (reads fail) or, for a child made by vfork and opened before its exec, is
 * its parent's (reads count the parent twice, for as long as both live).
 */
static long read_pss(struct watch *w, pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/smaps_rollup", (long)pid);
    int fd = open_proc(path);
    if (fd < 0)
        return -1;
    long pss = pread_all(w, fd) > 0 ? pss_field(w->buf) : -1;
    close(fd);
    return pss;
}

static long self_pss_kib(struct watch *w, int fd)
{
    if (pread_all(w, fd) <= 0)
        die("read /proc/self/smaps_rollup");
    long v = pss_field(w->buf);
    if (v < 0)
        die_msg("no Pss in /proc/self/smaps_rollup");
    return v;
}

static int mode_watch(const char *outfile, char **cmd)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        die("prctl PR_SET_CHILD_SUBREAPER");
    /* Three kept files per process: allow a large tree, but not to CMD. */
    struct rlimit nofile, raised;
    if (getrlimit(RLIMIT_NOFILE, &nofile) != 0)
        die("getrlimit");
    raised = nofile;
    raised.rlim_cur = nofile.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &raised); /* else the soft limit stands */
    int out = open(outfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0)
        die("open OUTFILE");

    double start = now_ms();
    pid_t child = xfork();
    if (child == 0) {
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
        execvp(cmd[0], cmd);
        fprintf(stderr, "%s: watch: cannot run %s: %s\n", prog, cmd[0], strerror(errno));
        _exit(127);
    }

    struct watch w;
    memset(&w, 0, sizeof w);
    w.bufcap = 4096;
    w.buf = xrealloc(NULL, w.bufcap);
    w.qcap = 256;
    w.queue = xrealloc(NULL, w.qcap * sizeof *w.queue);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
    w.self_children_fd = open_proc(path);
    if (w.self_children_fd < 0)
        die("open /proc/self/task/.../children");
    int self_rollup = open_proc("/proc/self/smaps_rollup");
    if (self_rollup < 0)
        die("open /proc/self/smaps_rollup");

    size_t cap_a = 256, cap_b = 256;
    struct wseen *a = xrealloc(NULL, cap_a * sizeof *a);
    struct wseen *b = xrealloc(NULL, cap_b * sizeof *b);
    size_t na = 0, nb = 0;
    int have_b = 0, status = 0, child_done = 0;
    long truth = 0, truth_procs = 0, self_at_truth = 0, truth_ms = 0, max_rss = 0;
    unsigned long kept = 0, dropped = 0;

    for (;;) {
        int reaped = 0, st;
        pid_t r;
        struct rusage ru;
        while ((r = wait4(-1, &st, WNOHANG, &ru)) > 0) {
            reaped = 1;
            if (ru.ru_maxrss > max_rss)
                max_rss = ru.ru_maxrss;
            if (r == child) {
                status = st;
                child_done = 1;
            }
        }
        if (r < 0 && errno != ECHILD && errno != EINTR)
            die("waitpid");
        /* The last walk after the reads is this sample's first, unless a
         * reaped zombie has left the tree since. */
        if (have_b && !reaped) {
            struct wseen *t = a;
            size_t tc = cap_a;
            a = b, cap_a = cap_b, na = nb;
            b = t, cap_b = tc;
        } else {
            na = walk_tree(&w, &a, &cap_a);
        }
        if (na == 0 && child_done)
            break;
        long sum = 0, procs = 0;
        int whole = 1;
        for (size_t i = 0; i < na; i++) {
            if (!a[i].alive)
                continue;
            long pss = read_pss(&w, a[i].pid);
            if (pss < 0) {
                whole = 0;
                break;
            }
            sum += pss;
            procs++;
        }
        nb = walk_tree(&w, &b, &cap_b);
        have_b = 1;
        if (!whole || na != nb || memcmp(a, b, na * sizeof *a) != 0) {
            dropped++;
            continue;
        }
        kept++;
        if (sum > truth) {
            truth = sum;
            truth_procs = procs;
            truth_ms = (long)(now_ms() - start);
            self_at_truth = self_pss_kib(&w, self_rollup);
        }
    }

    struct rusage self;
    if (getrusage(RUSAGE_SELF, &self) != 0)
        die("getrusage");
    long cpu_ms = (long)(self.ru_utime.tv_sec + self.ru_stime.tv_sec) * 1000L +
                  (long)(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1000L;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    char report[512];
    int len = snprintf(report, sizeof report,
                       "truth_kib %ld\nsamples %lu\ndropped %lu\nself_pss_kib %ld\n"
                       "self_pss_at_truth_kib %ld\nmax_rss_kib %ld\nprocs %ld\n"
                       "truth_at_ms %ld\n"
                       "wall_ms %ld\n"
                       "cpu_ms %ld\nexit %d\n\n",
                       truth, kept, dropped, self_pss_kib(&w, self_rollup),
                       self_at_truth, max_rss, truth_procs, truth_ms, (long)(now_ms() - start), cpu_ms,
                       code);
    write_once_and_close(out, report, (size_t)len, "OUTFILE");
    return code;
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
    } else if (strcmp(m, "vfork") == 0) {
        need_args(argc, 2);
        return mode_vfork(parse_num(a[0], "MIB"), parse_num(a[1], "MS"));
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
    } else if (strcmp(m, "watch") == 0) {
        if (argc < 4)
            usage();
        char **cmd = a + 1;
        if (strcmp(cmd[0], "--") == 0)
            cmd++;
        if (cmd[0] == NULL)
            usage();
        return mode_watch(a[0], cmd);
    }
    fprintf(stderr, "%s: unknown mode '%s'\n", prog, m);
    usage();
    return 2;
}
