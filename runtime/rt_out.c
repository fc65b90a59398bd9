/* rt_out.c: everything the runtime writes: files (always atomically: a
 * temporary beside the final name, fsync, rename, so an interrupted run
 * leaves the previous complete file), metrics.csv, .npy arrays, and the
 * progress line on the terminal.  Also the runtime's allocation functions.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rt_internal.h"

/* ---- memory ---- */

static void *check_alloc(void *p)
{
    if (!p) {
        fputs("out of memory\n", stderr);
        exit(1);
    }
    return p;
}

void *rt_xmalloc(size_t n)
{
    return check_alloc(malloc(n ? n : 1));
}

void *rt_xcalloc(size_t count, size_t size)
{
    return check_alloc(calloc(count ? count : 1, size ? size : 1));
}

char *rt_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(rt_xmalloc(n), s, n);
}

/* ---- paths and atomic files ---- */

char *rt_path_join(const char *dir, const char *name)
{
    size_t ld = strlen(dir);
    int slash = ld > 0 && dir[ld - 1] == '/';
    char *p = rt_xmalloc(ld + strlen(name) + 2);
    sprintf(p, "%s%s%s", dir, slash ? "" : "/", name);
    return p;
}

int rt_mkdir_p(const char *dir)
{
    char *path;
    struct stat st;
    int rc = 0;
    if (*dir == '\0') {
        errno = ENOENT;
        return -1;
    }
    path = rt_xstrdup(dir);
    /* Create each prefix ending before a '/', then the whole path. */
    for (char *s = path + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(path, 0777) < 0) {
            int e = errno;
            if (e != EEXIST && !(stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
                errno = e;
                rc = -1;
                break;
            }
        }
        *s = saved;
        if (saved == '\0')
            break;
    }
    if (rc == 0) {
        if (stat(dir, &st) < 0)
            rc = -1;
        else if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            rc = -1;
        }
    }
    int saved_errno = errno;
    free(path);
    errno = saved_errno;
    return rc;
}

int rt_atomic_open(RtAtomic *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dirlen;
    a->path = rt_xstrdup(path);
    a->tmp = rt_xmalloc(strlen(path) + 7);
    sprintf(a->tmp, "%.*s.%s.tmp", (int)dirlen, path, base);
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        int saved = errno;
        free(a->path);
        free(a->tmp);
        a->path = a->tmp = NULL;
        errno = saved;
        return -1;
    }
    return 0;
}

static void atomic_release(RtAtomic *a)
{
    free(a->path);
    free(a->tmp);
    a->f = NULL;
    a->path = a->tmp = NULL;
}

void rt_atomic_abort(RtAtomic *a)
{
    int saved = errno;
    if (a->f)
        fclose(a->f);
    if (a->tmp)
        unlink(a->tmp);
    atomic_release(a);
    errno = saved;
}

/* Make a rename durable: fsync the directory holding `path` (best effort). */
static void sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? rt_xmalloc((size_t)(slash - path) + 2) : rt_xstrdup(".");
    if (slash) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int rt_atomic_commit(RtAtomic *a)
{
    FILE *f = a->f;
    a->f = NULL;
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
        int saved = errno ? errno : EIO;
        fclose(f);
        unlink(a->tmp);
        atomic_release(a);
        errno = saved;
        return -1;
    }
    if (fclose(f) != 0 || rename(a->tmp, a->path) < 0) {
        int saved = errno;
        unlink(a->tmp);
        atomic_release(a);
        errno = saved;
        return -1;
    }
    sync_dir_of(a->path);
    atomic_release(a);
    return 0;
}

/* ---- .npy ---- */

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* Format 1.0: magic, version, little-endian u16 header length, then a
 * Python dict literal padded with spaces and ended by '\n' so that the data
 * starts at a multiple of 64 bytes. */
static int write_npy(const char *path, const void *data, char kind, int rows, int cols)
{
    char dict[256];
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };
    RtAtomic a;
    int n;
    size_t total, hlen;
    if (rows < 0 || cols < 0) {
        errno = EINVAL;
        return -1;
    }
    n = snprintf(dict, sizeof dict,
                 "{'descr': '%c%c8', 'fortran_order': False, 'shape': (%d, %d), }",
                 host_is_little_endian() ? '<' : '>', kind, rows, cols);
    total = (sizeof pre + (size_t)n + 1 + 63) / 64 * 64;
    hlen = total - sizeof pre;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    if (rt_atomic_open(&a, path) < 0)
        return -1;
    fwrite(pre, 1, sizeof pre, a.f);
    fputs(dict, a.f);
    for (size_t i = sizeof pre + (size_t)n; i + 1 < total; i++)
        fputc(' ', a.f);
    fputc('\n', a.f);
    fwrite(data, 8, (size_t)rows * (size_t)cols, a.f);
    return rt_atomic_commit(&a);
}

int rt_write_npy(const char *path, const double *data, int rows, int cols)
{
    return write_npy(path, data, 'f', rows, cols);
}

int rt_write_npy_i64(const char *path, const int64_t *data, int rows, int cols)
{
    return write_npy(path, data, 'i', rows, cols);
}

/* ---- metrics.csv ---- */

void rt_metrics_init(RtMetricsTable *t, int nmetrics, const char *const *names)
{
    memset(t, 0, sizeof *t);
    t->nmetrics = nmetrics;
    t->names = names;
}

int64_t rt_metrics_add_row(RtMetricsTable *t, int64_t epoch)
{
    size_t nm = (size_t)t->nmetrics;
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->epochs = check_alloc(realloc(t->epochs, (size_t)t->cap * sizeof *t->epochs));
        t->values = check_alloc(realloc(t->values, (size_t)t->cap * (nm ? nm : 1)
                                        * sizeof *t->values));
        t->have = check_alloc(realloc(t->have, (size_t)t->cap * (nm ? nm : 1)));
    }
    t->epochs[t->nrows] = epoch;
    memset(t->values + (size_t)t->nrows * nm, 0, nm * sizeof *t->values);
    memset(t->have + (size_t)t->nrows * nm, 0, nm);
    return t->nrows++;
}

void rt_metrics_free(RtMetricsTable *t)
{
    free(t->epochs);
    free(t->values);
    free(t->have);
    memset(t, 0, sizeof *t);
}

int rt_metrics_write(const char *path, const RtMetricsTable *t)
{
    RtAtomic a;
    if (rt_atomic_open(&a, path) < 0)
        return -1;
    fputs("epoch", a.f);
    for (int j = 0; j < t->nmetrics; j++)
        fprintf(a.f, ",%s", t->names[j]);
    fputc('\n', a.f);
    for (int64_t r = 0; r < t->nrows; r++) {
        fprintf(a.f, "%lld", (long long)t->epochs[r]);
        for (int j = 0; j < t->nmetrics; j++) {
            size_t at = (size_t)r * (size_t)t->nmetrics + (size_t)j;
            if (t->have[at])
                fprintf(a.f, ",%.17g", t->values[at]);
            else
                fputc(',', a.f);
        }
        fputc('\n', a.f);
    }
    return rt_atomic_commit(&a);
}

/* ---- progress ---- */

double rt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void rt_progress_init(RtProgress *p, int enabled)
{
    p->on = enabled;
    p->last = -1e300;
    p->width = 0;
}

void rt_format_rate(char *buf, size_t size, double per_s)
{
    if (!(per_s >= 0) || !isfinite(per_s))
        snprintf(buf, size, "-");
    else if (per_s < 1e3)
        snprintf(buf, size, "%.0f", per_s);
    else if (per_s < 1e6)
        snprintf(buf, size, "%.1fk", per_s / 1e3);
    else if (per_s < 1e9)
        snprintf(buf, size, "%.1fM", per_s / 1e6);
    else
        snprintf(buf, size, "%.1fG", per_s / 1e9);
}

void rt_format_duration(char *buf, size_t size, double seconds)
{
    long long s;
    if (!(seconds >= 0) || seconds > 1e9) {
        snprintf(buf, size, "-");
        return;
    }
    s = (long long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, size, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, size, "%lld:%02lld", s / 60, s % 60);
}

void rt_progress_draw(RtProgress *p, int64_t epoch, int64_t epochs, const char *name,
                      double value, double steps_per_s, double eta_s, int force)
{
    char line[256], rate[32], eta[32];
    int n, len;
    double now;
    if (!p->on)
        return;
    now = rt_now();
    if (!force && now - p->last < 0.2)
        return;
    p->last = now;
    n = snprintf(line, sizeof line, "epoch %lld/%lld", (long long)epoch, (long long)epochs);
    if (name && n >= 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "  %s %.4g", name, value);
    rt_format_rate(rate, sizeof rate, steps_per_s);
    if (n >= 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "  %s steps/s", rate);
    if (eta_s >= 0 && n >= 0 && (size_t)n < sizeof line) {
        rt_format_duration(eta, sizeof eta, eta_s);
        n += snprintf(line + n, sizeof line - (size_t)n, "  ETA %s", eta);
    }
    len = (int)strlen(line);
    /* Pad with spaces over the tail of a longer previous line. */
    fprintf(stderr, "\r%s%*s", line, p->width > len ? p->width - len : 0, "");
    fflush(stderr);
    p->width = len;
}

void rt_progress_clear(RtProgress *p)
{
    if (!p->on || p->width == 0)
        return;
    fprintf(stderr, "\r%*s\r", p->width, "");
    fflush(stderr);
    p->width = 0;
}
