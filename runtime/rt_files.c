/* rt_files.c: the readers of IDX and CSV data files, shared by the
 * compiler (which reads a file's header and checks it where the model
 * names it) and the runtime (which reads the data when a run starts,
 * rt_data.c).  The .npy reader is in rt_data.c.
 *
 * IDX is the format of MNIST and Fashion-MNIST (LeCun's description on the
 * MNIST page): two zero bytes, a type byte (0x08: unsigned byte), the
 * number of dimensions, each dimension as a 32-bit big-endian integer, then
 * the data in C order.  Images are 0x00000803 (n, rows, cols), labels
 * 0x00000801 (n).  Files are read through zlib's gz* functions, which read
 * a plain file as it is, so `x.idx` and `x.idx.gz` need no flag; a file is
 * always read to its end, so that a truncated or damaged .gz is found
 * before a run starts rather than in its last epoch.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE (getline), from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "rt_internal.h"

/* ---- IDX ---- */

static const char *idx_type_name(int t)
{
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
    }
}

/* zlib's message without the "<fd:N>: " it puts before it (gzdopen
 * knows no file name; the caller names the file). */
static const char *gz_message(gzFile gz, int *err)
{
    const char *msg = gzerror(gz, err);
    const char *colon = strncmp(msg, "<fd:", 4) == 0 ? strstr(msg, ">: ") : NULL;
    return colon ? colon + 3 : msg;
}

/* Reads exactly n bytes (fewer only at the end of the data); the count
 * read, or -1 with why when zlib reports damage. */
static int64_t gz_read_all(gzFile gz, void *buf, int64_t n, char *why, size_t whylen)
{
    int64_t got = 0;
    while (got < n) {
        unsigned chunk = n - got > (1 << 30) ? 1u << 30 : (unsigned)(n - got);
        int r = gzread(gz, (char *)buf + got, chunk);
        if (r < 0) {
            int err;
            const char *msg = gz_message(gz, &err);
            snprintf(why, whylen, "%s%s", err == Z_ERRNO ? strerror(errno) : "damaged gzip data: ",
                     err == Z_ERRNO ? "" : msg);
            return -1;
        }
        if (r == 0)
            break;
        got += r;
    }
    /* zlib returns what it decompressed and notes a cut-off stream as
     * Z_BUF_ERROR ("unexpected end of file"). */
    int err;
    const char *msg = gz_message(gz, &err);
    if (err == Z_BUF_ERROR) {
        snprintf(why, whylen, "truncated gzip data (%s)", msg);
        return -1;
    }
    if (err != Z_OK && err != Z_STREAM_END) {
        snprintf(why, whylen, "damaged gzip data: %s", msg);
        return -1;
    }
    return got;
}

/* The IDX reader proper: the header into info, the first `keep` items
 * into *data when data is not NULL, and the rest read and counted. */
static int idx_read(const char *path, RtIdxInfo *info, int64_t keep, uint8_t **data, char *why, size_t whylen)
{
    int64_t size;
    unsigned char hdr[4 + 4 * RT_IDX_MAXDIM];
    int rc = -1;
    uint8_t *buf = NULL;
    memset(info, 0, sizeof *info);
    if (data)
        *data = NULL;
    int fd = rt_open_regular(path, &size, why, whylen);
    if (fd < 0)
        return -1;
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        snprintf(why, whylen, "%s", errno ? strerror(errno) : "out of memory");
        close(fd);
        return -1;
    }
    gzbuffer(gz, 1 << 17);
    int64_t got = gz_read_all(gz, hdr, 4, why, whylen);
    if (got < 0)
        goto out;
    info->gzip = !gzdirect(gz);
    if (got < 4) {
        snprintf(why, whylen, got == 0 ? "empty file, not an IDX file" : "truncated: %lld bytes, not an IDX file",
                 (long long)got);
        goto out;
    }
    if (hdr[0] != 0 || hdr[1] != 0) {
        snprintf(why, whylen, "not an IDX file (it starts 0x%02x%02x%02x%02x; IDX files start 0x0000)", hdr[0],
                 hdr[1], hdr[2], hdr[3]);
        goto out;
    }
    if (hdr[2] != 0x08) {
        snprintf(why, whylen, "IDX type 0x%02x (%s); only unsigned bytes (0x08) are read", hdr[2],
                 idx_type_name(hdr[2]));
        goto out;
    }
    info->ndim = hdr[3];
    if (info->ndim < 1 || info->ndim > RT_IDX_MAXDIM) {
        snprintf(why, whylen, "not an IDX file (%d dimensions; 1 to %d expected)", info->ndim, RT_IDX_MAXDIM);
        goto out;
    }
    got = gz_read_all(gz, hdr + 4, 4 * info->ndim, why, whylen);
    if (got < 0)
        goto out;
    if (got < 4 * info->ndim) {
        snprintf(why, whylen, "truncated IDX header (%d dimensions announced)", info->ndim);
        goto out;
    }
    info->width = 1;
    for (int i = 0; i < info->ndim; i++) {
        const unsigned char *b = hdr + 4 + 4 * i;
        uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (v == 0 || v > INT32_MAX) {
            snprintf(why, whylen, "dimension %d is %lu", i, (unsigned long)v);
            goto out;
        }
        info->dims[i] = v;
        if (i > 0) {
            info->width *= v;
            if (info->width > RT_IDX_MAXWIDTH) {
                snprintf(why, whylen, "more than %d values per item", RT_IDX_MAXWIDTH);
                goto out;
            }
        }
    }
    info->count = info->dims[0];
    if (keep < 0 || keep > info->count)
        keep = info->count;
    int64_t need = info->count * info->width, want = keep * info->width, have = 0;
    /* What the file can hold, before anything is allocated for a header
     * that claims more: a plain file's size exactly; deflate expands at
     * most 1032 to 1. */
    int64_t head = 4 + 4 * (int64_t)info->ndim;
    if (info->gzip ? need / 1032 > size : head + need > size) {
        snprintf(why, whylen, "truncated: the header announces %lld bytes of data (%lld items of %lld), the file "
                 "has %lld bytes", (long long)need, (long long)info->count, (long long)info->width,
                 (long long)size);
        goto out;
    }
    if (data) {
        buf = rt_xmalloc((size_t)want + 1);
        have = gz_read_all(gz, buf, want, why, whylen);
        if (have < 0)
            goto out;
    }
    /* The rest, read and dropped: one byte more than announced is
     * reported as trailing bytes. */
    unsigned char *scratch = rt_xmalloc(1 << 16);
    int cut = data && have < want;      /* cut short before the end of the items kept */
    while (!cut && have <= need) {
        int64_t chunk = need + 1 - have < (1 << 16) ? need + 1 - have : (1 << 16);
        int64_t r = gz_read_all(gz, scratch, chunk, why, whylen);
        if (r < 0) {
            free(scratch);
            goto out;
        }
        have += r;
        if (r < chunk)
            break;
    }
    free(scratch);
    if (have < need) {
        snprintf(why, whylen, "truncated: %lld bytes of data where the header announces %lld (%lld items of %lld)",
                 (long long)have, (long long)need, (long long)info->count, (long long)info->width);
        goto out;
    }
    if (have > need) {
        snprintf(why, whylen, "trailing bytes after the %lld bytes of data the header announces", (long long)need);
        goto out;
    }
    if (data)
        *data = buf;
    rc = 0;
out:
    if (rc < 0)
        free(buf);
    gzclose(gz);
    return rc;
}

int rt_idx_info(const char *path, RtIdxInfo *info, char *why, size_t whylen)
{
    return idx_read(path, info, -1, NULL, why, whylen);
}

int rt_idx_load(const char *path, RtIdxInfo *info, int64_t n, uint8_t **data, char *why, size_t whylen)
{
    return idx_read(path, info, n, data, why, whylen);
}

/* ---- CSV ---- */

/* One cell: a number, spaces around it allowed; the end of the cell in
 * *end (at a comma or the end of the line). */
static int csv_cell(const char *s, double *v, const char **end)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e;
    errno = 0;
    *v = strtod(s, &e);
    if (e == s)
        return -1;
    while (*e == ' ' || *e == '\t')
        e++;
    *end = e;
    return *e == ',' || *e == '\0' ? 0 : -1;
}

int rt_csv_load(const char *path, int skip, int64_t *rows, int64_t *cols, double **vals, char *why,
                size_t whylen)
{
    int64_t size, n = 0, w = -1, cap = 0;
    double *v = NULL;
    char *line = NULL;
    size_t linecap = 0;
    int rc = -1;
    *vals = NULL;
    int fd = rt_open_regular(path, &size, why, whylen);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        snprintf(why, whylen, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    int64_t lineno = 0, blank = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        if (memchr(line, '\0', (size_t)len)) {
            snprintf(why, whylen, "line %lld: a NUL byte (not a text file)", (long long)lineno);
            goto out;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (lineno <= skip)
            continue;
        if (line[strspn(line, " \t")] == '\0') {     /* blank lines only at the end */
            blank = blank ? blank : lineno;
            continue;
        }
        if (blank) {
            snprintf(why, whylen, "line %lld is blank, but rows follow it", (long long)blank);
            goto out;
        }
        int64_t c = 0;
        const char *s = line;
        for (;;) {
            double x;
            const char *e;
            if (csv_cell(s, &x, &e) < 0) {
                const char *comma = strchr(s, ',');
                int cl = comma ? (int)(comma - s) : (int)strlen(s);
                snprintf(why, whylen, "line %lld, column %lld: '%.*s' is not a number%s", (long long)lineno,
                         (long long)c + 1, cl > 40 ? 40 : cl, s,
                         lineno == 1 && skip == 0 ? " (a header line? say 'header 1')" : "");
                goto out;
            }
            if (!isfinite(x)) {
                snprintf(why, whylen, "line %lld, column %lld: %g is not a finite number", (long long)lineno,
                         (long long)c + 1, x);
                goto out;
            }
            if (n * (w > 0 ? w : 1) + c >= cap) {
                if (cap > (INT64_C(1) << 36)) {
                    snprintf(why, whylen, "too many values");
                    goto out;
                }
                cap = cap ? 2 * cap : 1024;
                v = rt_xrealloc(v, (size_t)cap, sizeof *v);
            }
            v[n * (w > 0 ? w : 0) + c] = x;
            c++;
            if (*e == '\0')
                break;
            s = e + 1;
        }
        if (w < 0)
            w = c;
        else if (c != w) {
            snprintf(why, whylen, "line %lld has %lld columns, but the first row has %lld", (long long)lineno,
                     (long long)c, (long long)w);
            goto out;
        }
        n++;
    }
    if (ferror(f)) {
        snprintf(why, whylen, "read error: %s", strerror(errno));
        goto out;
    }
    if (n == 0) {
        snprintf(why, whylen, "no rows%s", skip ? " after the header" : "");
        goto out;
    }
    *rows = n;
    *cols = w;
    *vals = v;
    v = NULL;
    rc = 0;
out:
    free(v);
    free(line);
    fclose(f);
    return rc;
}
