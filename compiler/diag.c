/* diag.c: loading sources and printing located diagnostics (see diag.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

void diag_init(Diag *d, FILE *out)
{
    memset(d, 0, sizeof *d);
    d->out = out ? out : stderr;
    d->max_errors = 50;
}

SrcFile *diag_src_from_string(Arena *a, const char *path, const char *text, size_t len)
{
    SrcFile *f = arena_alloc(a, sizeof *f);
    f->arena = a;
    f->path = arena_strdup(a, path);
    f->text = arena_strndup(a, text, len);
    f->len = len;
    return f;
}

SrcFile *diag_load_file(Diag *d, Arena *a, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        diag_plain_error(d, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        diag_plain_error(d, "'%s' is a directory, not a model file", path);
        return NULL;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        diag_plain_error(d, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    /* Read in chunks rather than trusting st_size: pipes and /proc files
     * report 0, and /dev/zero never ends.  The buffer never grows past one
     * byte over the limit, which is how a file over it is noticed. */
    size_t cap = 4096, len = 0;
    char *buf = mem_alloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > DIAG_MAX_SOURCE)
                break;
            cap = cap * 2 > DIAG_MAX_SOURCE ? DIAG_MAX_SOURCE + 1 : cap * 2;
            buf = mem_realloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0)
            break;
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        mem_free(buf);
        diag_plain_error(d, "cannot read '%s'", path);
        return NULL;
    }
    if (len > DIAG_MAX_SOURCE) {
        mem_free(buf);
        diag_plain_error(d, "'%s' is too large for a model file (over %d MiB)", path, DIAG_MAX_SOURCE >> 20);
        return NULL;
    }
    SrcFile *f = diag_src_from_string(a, path, buf, len);
    mem_free(buf);
    return f;
}

Span span_make(const SrcFile *f, uint32_t lo, uint32_t hi)
{
    Span s = { f, lo, hi < lo ? lo : hi };
    return s;
}

static void build_lines(SrcFile *f)
{
    int n = 1;
    for (size_t i = 0; i < f->len; i++)
        if (f->text[i] == '\n')
            n++;
    f->line_starts = arena_alloc(f->arena, (size_t)n * sizeof *f->line_starts);
    f->line_starts[0] = 0;
    int k = 1;
    for (size_t i = 0; i < f->len; i++)
        if (f->text[i] == '\n')
            f->line_starts[k++] = (uint32_t)(i + 1);
    f->nlines = n;
}

void diag_line_col(const SrcFile *cf, uint32_t off, int *line, int *col)
{
    SrcFile *f = (SrcFile *)cf;
    if (!f->line_starts)
        build_lines(f);
    if (off > f->len)
        off = (uint32_t)f->len;
    int lo = 0, hi = f->nlines - 1;     /* last line start <= off */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (f->line_starts[mid] <= off)
            lo = mid;
        else
            hi = mid - 1;
    }
    *line = lo + 1;
    *col = (int)(off - f->line_starts[lo]) + 1;
}

/* Longest stretch of a source line we quote; beyond it we show a window
 * around the caret so a 1 MB line does not flood the terminal. */
enum { QUOTE_MAX = 160 };

static void quote_source(Diag *d, Span sp)
{
    const SrcFile *f = sp.file;
    int line, col;
    diag_line_col(f, sp.lo, &line, &col);
    uint32_t start = f->line_starts[line - 1];
    uint32_t end = start;
    while (end < f->len && f->text[end] != '\n')
        end++;
    if (end > start && f->text[end - 1] == '\r')    /* CRLF */
        end--;
    uint32_t lo = sp.lo, hi = sp.hi;
    if (hi > end)
        hi = end;
    if (hi <= lo)
        hi = lo + 1;
    /* Window the line if it is too long. */
    uint32_t ws = start, we = end;
    if (we - ws > QUOTE_MAX) {
        ws = lo > start + QUOTE_MAX / 2 ? lo - QUOTE_MAX / 2 : start;
        we = ws + QUOTE_MAX < end ? ws + QUOTE_MAX : end;
    }
    fprintf(d->out, "%5d | %s", line, ws > start ? "..." : "");
    for (uint32_t i = ws; i < we; i++) {
        unsigned char c = (unsigned char)f->text[i];
        /* Keep the caret aligned: control bytes and NULs print as one '?'. */
        fputc(c == '\t' ? '\t' : (c < 32 || c == 127) ? '?' : c, d->out);
    }
    fprintf(d->out, "%s\n      | %s", we < end ? "..." : "", ws > start ? "   " : "");
    for (uint32_t i = ws; i < lo && i < we; i++)
        fputc(f->text[i] == '\t' ? '\t' : ' ', d->out);
    fputc('^', d->out);
    for (uint32_t i = lo + 1; i < hi && i < we; i++)
        fputc('~', d->out);
    fputc('\n', d->out);
}

static void vreport(Diag *d, DiagLevel lv, Span sp, int quote, const char *fmt, va_list ap)
{
    static const char *const names[] = { "error", "note" };
    if (sp.file) {
        int line, col;
        diag_line_col(sp.file, sp.lo, &line, &col);
        fprintf(d->out, "%s:%d:%d: %s: ", sp.file->path, line, col, names[lv]);
    } else {
        fprintf(d->out, "dendc: %s: ", names[lv]);
    }
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    if (sp.file && quote)
        quote_source(d, sp);
}

void diag_error(Diag *d, Span sp, const char *fmt, ...)
{
    d->errors++;
    d->suppressed = d->max_errors && d->errors > d->max_errors;
    if (d->suppressed) {
        if (d->errors == d->max_errors + 1)
            fprintf(d->out, "dendc: too many errors, stopping here\n");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vreport(d, DIAG_ERROR, sp, 1, fmt, ap);
    va_end(ap);
    d->last_error = sp;
}

void diag_note(Diag *d, Span sp, const char *fmt, ...)
{
    if (d->suppressed)
        return;
    int same = sp.file == d->last_error.file && sp.lo == d->last_error.lo &&
               sp.hi == d->last_error.hi;
    va_list ap;
    va_start(ap, fmt);
    vreport(d, DIAG_NOTE, sp, !same, fmt, ap);
    va_end(ap);
}

void diag_plain_error(Diag *d, const char *fmt, ...)
{
    d->errors++;
    va_list ap;
    va_start(ap, fmt);
    Span none = { 0 };
    vreport(d, DIAG_ERROR, none, 0, fmt, ap);
    va_end(ap);
}

int diag_count(const Diag *d) { return d->errors; }

static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 1000;
    int row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int cost = a[i - 1] != b[j - 1];
            int best = diag + cost;
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *diag_closest(const char *name, const char *const *cands, int n)
{
    const char *best = NULL;
    int best_d = 1000;
    size_t len = strlen(name);
    /* A typo is at most a third of the name (and at least one edit). */
    int limit = (int)(len / 3) > 1 ? (int)(len / 3) : 1;
    if (len <= 2)
        limit = 1;
    /* A name that differs only in case (g_b for g_B) is the likeliest typo
     * of all, whatever the edit distance says about other candidates. */
    for (int i = 0; i < n; i++)
        if (cands[i] && strcmp(cands[i], name) != 0 && strcasecmp(cands[i], name) == 0)
            return cands[i];
    for (int i = 0; i < n; i++) {
        if (!cands[i] || strcmp(cands[i], name) == 0)
            continue;
        int dist = edit_distance(name, cands[i]);
        if (dist <= limit && dist < best_d) {
            best = cands[i];
            best_d = dist;
        }
    }
    return best;
}
