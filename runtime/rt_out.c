/* rt_out.c: the runtime's files (always written atomically: a temporary
 * beside the final name, fsync, rename, so an interrupted run leaves the
 * previous complete file), metrics.csv and .npy arrays, and the runtime's
 * allocation functions.  Checkpoints (rt_checkpoint.c) and the progress line
 * (rt_progress.c) are built on these.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_internal.h"

/* ---- memory ---- */

/* Named in the out-of-memory message; rt_main sets it to the program's. */
static const char *oom_prog = "model";

void rt_set_prog_name(const char *prog)
{
    oom_prog = prog;
}

void rt_out_of_memory(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        fprintf(stderr, "%s: out of memory allocating %zu x %zu bytes\n", oom_prog, count, size);
    else
        fprintf(stderr, "%s: out of memory allocating %zu bytes\n", oom_prog, count * size);
    exit(1);
}

void *rt_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        rt_out_of_memory(n, 1);
    return p;
}

void *rt_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        rt_out_of_memory(count, size);
    return p;
}

void *rt_xrealloc(void *p, size_t count, size_t size)
{
    void *q;
    size_t n = count * size;
    if (size != 0 && count > SIZE_MAX / size)
        rt_out_of_memory(count, size);
    q = realloc(p, n ? n : 1);
    if (!q)
        rt_out_of_memory(count, size);
    return q;
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

void rt_sync_dir_of(const char *path)
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
    rt_sync_dir_of(a->path);
    atomic_release(a);
    return 0;
}

int rt_open_regular(const char *path, int64_t *size, char *why, size_t whylen)
{
    struct stat st;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer, for ever.  It changes nothing for a regular file. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    const char *kind = NULL;
    if (fd < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISREG(st.st_mode)) {
        *size = (int64_t)st.st_size;
        return fd;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "is a directory");
    } else {
        kind = S_ISFIFO(st.st_mode) ? " (a FIFO)"
             : S_ISSOCK(st.st_mode) ? " (a socket)"
             : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? " (a device)" : "";
        snprintf(why, whylen, "not a regular file%s", kind);
    }
    close(fd);
    return -1;
}

/* ---- .npy ---- */

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* The header dict of a C-order array of 8-byte `kind` elements: shape (rows,)
 * when cols < 0, else (rows, cols).  Returns its length, or -1. */
static int npy_dict(char *dict, size_t size, char kind, int64_t rows, int64_t cols)
{
    int n;
    if (cols < 0)
        n = snprintf(dict, size, "{'descr': '%c%c8', 'fortran_order': False, 'shape': (%lld,), }",
                     host_is_little_endian() ? '<' : '>', kind, (long long)rows);
    else
        n = snprintf(dict, size,
                     "{'descr': '%c%c8', 'fortran_order': False, 'shape': (%lld, %lld), }",
                     host_is_little_endian() ? '<' : '>', kind, (long long)rows,
                     (long long)cols);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

/* Format 1.0: magic, version, little-endian u16 header length, then a
 * Python dict literal padded with spaces and ended by '\n' so that the data
 * starts at a multiple of 64 bytes.  cols < 0: a 1-D array of rows. */
static int write_npy(const char *path, const void *data, char kind, int64_t rows, int64_t cols)
{
    char dict[256];
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };
    RtAtomic a;
    int n;
    size_t total, hlen;
    if (rows < 0 || (n = npy_dict(dict, sizeof dict, kind, rows, cols)) < 0) {
        errno = EINVAL;
        return -1;
    }
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
    fwrite(data, 8, (size_t)rows * (size_t)(cols < 0 ? 1 : cols), a.f);
    return rt_atomic_commit(&a);    /* catches short writes through ferror */
}

int rt_write_npy(const char *path, const double *data, int rows, int cols)
{
    return write_npy(path, data, 'f', rows, cols);
}

int rt_write_npy_i64(const char *path, const int64_t *data, int rows, int cols)
{
    return write_npy(path, data, 'i', rows, cols);
}

int rt_write_npy_vector(const char *path, const double *data, int64_t n)
{
    return write_npy(path, data, 'f', n, -1);
}

int rt_write_npy_i64_vector(const char *path, const int64_t *data, int64_t n)
{
    return write_npy(path, data, 'i', n, -1);
}

/* Only the exact layout write_npy produces is accepted: this reads the
 * runtime's own checkpoints back, and anything else is damage. */
int rt_read_npy_vector(const char *path, double *data, int64_t n, char *why, size_t whylen)
{
    static const unsigned char magic[8] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0 };
    unsigned char pre[10];
    char want[256], *hdr = NULL;
    FILE *f;
    int64_t size;
    size_t hlen, hlen_read;
    int rc = -1;
    int k = npy_dict(want, sizeof want, 'f', n, -1);
    int fd = rt_open_regular(path, &size, why, whylen);
    if (fd < 0)
        return -1;
    if (k < 0 || !(f = fdopen(fd, "rb"))) {
        snprintf(why, whylen, "%s", strerror(k < 0 ? EINVAL : errno));
        close(fd);
        return -1;
    }
    if (fread(pre, 1, sizeof pre, f) != sizeof pre || memcmp(pre, magic, sizeof magic) != 0) {
        snprintf(why, whylen, "not a .npy file (version 1.0)");
        goto out;
    }
    hlen = hlen_read = pre[8] | (size_t)pre[9] << 8;
    hdr = rt_xmalloc(hlen + 1);
    if (fread(hdr, 1, hlen, f) != hlen) {
        snprintf(why, whylen, "truncated .npy header");
        goto out;
    }
    hdr[hlen] = '\0';
    /* The dict, then spaces, then '\n'. */
    while (hlen > 0 && (hdr[hlen - 1] == ' ' || hdr[hlen - 1] == '\n'))
        hdr[--hlen] = '\0';
    if (strcmp(hdr, want) != 0) {
        snprintf(why, whylen, "unexpected .npy header \"%.80s\" (expected \"%s\")", hdr, want);
        goto out;
    }
    {
        /* The header was read whole, so the file is at least this long. */
        uint64_t have = (uint64_t)size - (uint64_t)(sizeof pre + hlen_read);
        uint64_t need = (uint64_t)n * 8;
        if (have != need) {
            snprintf(why, whylen, "%s: %llu bytes of data where %lld doubles need %llu",
                     have < need ? "truncated" : "trailing bytes", (unsigned long long)have,
                     (long long)n, (unsigned long long)need);
            goto out;
        }
    }
    if (fread(data, 8, (size_t)n, f) != (size_t)n) {
        snprintf(why, whylen, "read error: %s", ferror(f) ? strerror(errno) : "short read");
        goto out;
    }
    rc = 0;
out:
    free(hdr);
    fclose(f);
    return rc;
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
        t->epochs = rt_xrealloc(t->epochs, (size_t)t->cap, sizeof *t->epochs);
        t->values = rt_xrealloc(t->values, (size_t)t->cap * (nm ? nm : 1), sizeof *t->values);
        t->have = rt_xrealloc(t->have, (size_t)t->cap * (nm ? nm : 1), 1);
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
