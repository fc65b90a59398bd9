/* rt_checkpoint.c: checkpoints (format in rt_internal.h): writing
 * DIR/checkpoint with an atomic swap, so a crash at any moment leaves one
 * whole checkpoint, and reading it back for --resume, where anything that is
 * not exactly what the runtime writes is refused by name.  checkpoint.txt
 * records the CRC-32 of each other file and ends with the CRC-32 of its own
 * bytes: CRC-32 catches every change confined to 32 consecutive bits (any
 * flipped byte) and all but about 2^-32 of the others, which is what damage
 * and stray edits need; a checkpoint is no security boundary, so a keyed
 * hash would buy nothing.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "rt_internal.h"

uint64_t rt_fnv1a64(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

int rt_remove_flat_dir(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    int rc = 0;
    if (!dp)
        return errno == ENOENT ? 0 : -1;
    while ((e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = rt_path_join(dir, e->d_name);
        if (unlink(p) < 0 && errno != ENOENT)
            rc = -1;
        free(p);
    }
    closedir(dp);
    if (rc == 0 && rmdir(dir) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

/* CRC-32 of the whole file at `path`.  0, or -1 with why. */
static int file_crc(const char *path, uint32_t *crc, char *why, size_t whylen)
{
    unsigned char buf[16384];
    int64_t size;
    uLong c = crc32(0L, Z_NULL, 0);
    ssize_t n;
    int fd = rt_open_regular(path, &size, why, whylen);
    if (fd < 0)
        return -1;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(why, whylen, "read error: %s", strerror(errno));
            close(fd);
            return -1;
        }
        c = crc32(c, buf, (uInt)n);
    }
    close(fd);
    *crc = (uint32_t)c;
    return 0;
}

/* The text is built in memory first: its last line is its own CRC-32. */
static int write_checkpoint_txt(const char *path, const RtDesc *d, const RtCheckpoint *c,
                                const RtMetricsTable *t, uint32_t state_crc,
                                uint32_t params_crc)
{
    RtAtomic a;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    int failed;
    if (!m)
        return -1;
    fprintf(m, "dendc-checkpoint 2\nmodel %s\ndescriptor %016llx\nstate_size %lld\n"
            "nparams %d\ntrain_samples %lld\nseed %llu\nepochs %lld\ncheckpoint_every %lld\n"
            "epoch %lld\nsample %lld\nevaluated %d\ncounter %llu\nsteps %llu\n",
            d->model, (unsigned long long)c->desc_hash, (long long)d->state_size,
            d->nparams, (long long)c->train_n, (unsigned long long)c->seed,
            (long long)c->epochs, (long long)c->every, (long long)c->epoch,
            (long long)c->sample, c->evaluated, (unsigned long long)c->counter,
            (unsigned long long)c->steps);
    for (int i = 0; i < d->nparams; i++)
        fprintf(m, "param %s %d\n", d->params[i].name, c->overridden[i] ? 1 : 0);
    /* %a: metrics.csv is rewritten from these, so they must come back bit
     * for bit. */
    fprintf(m, "metrics %lld\n", (long long)t->nrows);
    for (int64_t r = 0; r < t->nrows; r++) {
        fprintf(m, "row %lld", (long long)t->epochs[r]);
        for (int j = 0; j < t->nmetrics; j++) {
            size_t at = (size_t)r * (size_t)t->nmetrics + (size_t)j;
            if (t->have[at])
                fprintf(m, " %a", t->values[at]);
            else
                fputs(" -", m);
        }
        fputc('\n', m);
    }
    fprintf(m, "checksum state.npy %08lx\nchecksum params.npy %08lx\n",
            (unsigned long)state_crc, (unsigned long)params_crc);
    failed = ferror(m);
    if (fclose(m) != 0 || failed) {
        free(text);
        errno = ENOMEM;
        return -1;
    }
    if (rt_atomic_open(&a, path) < 0) {
        free(text);
        return -1;
    }
    fwrite(text, 1, len, a.f);
    fprintf(a.f, "end %08lx\n", (unsigned long)crc32(crc32(0L, Z_NULL, 0),
                                                      (const Bytef *)text, (uInt)len));
    free(text);
    return rt_atomic_commit(&a);
}

int rt_checkpoint_write(const char *dir, const RtDesc *d, const RtCheckpoint *c,
                        const RtMetricsTable *table, char **failed)
{
    char *tmp = rt_path_join(dir, "checkpoint.tmp");
    char *fin = rt_path_join(dir, "checkpoint");
    char *old = rt_path_join(dir, "checkpoint.old");
    char *file = NULL, why[256];
    uint32_t state_crc, params_crc;
    int rc = -1, saved;
    *failed = NULL;
    /* A leftover from a run killed while writing: incomplete, drop it. */
    if (rt_remove_flat_dir(tmp) < 0 || mkdir(tmp, 0777) < 0) {
        *failed = rt_xstrdup(tmp);
        goto out;
    }
    /* Each CRC is read back from the file as written, the way
     * rt_checkpoint_read will check it. */
    file = rt_path_join(tmp, "state.npy");
    if (rt_write_npy_vector(file, c->state, d->state_size) < 0
        || file_crc(file, &state_crc, why, sizeof why) < 0)
        goto fail_file;
    free(file);
    file = rt_path_join(tmp, "params.npy");
    if (rt_write_npy_vector(file, c->params, d->nparams) < 0
        || file_crc(file, &params_crc, why, sizeof why) < 0)
        goto fail_file;
    free(file);
    /* checkpoint.txt last: a directory that has it has everything. */
    file = rt_path_join(tmp, "checkpoint.txt");
    if (write_checkpoint_txt(file, d, c, table, state_crc, params_crc) < 0)
        goto fail_file;
    free(file);
    file = NULL;
    /* The swap: from here on, DIR/checkpoint or DIR/checkpoint.old is always
     * complete. */
    if (rt_remove_flat_dir(old) < 0) {
        *failed = rt_xstrdup(old);
        goto out;
    }
    if (rename(fin, old) < 0 && errno != ENOENT) {
        *failed = rt_xstrdup(fin);
        goto out;
    }
    if (rename(tmp, fin) < 0) {
        *failed = rt_xstrdup(fin);
        goto out;
    }
    rt_sync_dir_of(fin);
    if (rt_remove_flat_dir(old) < 0) {
        *failed = rt_xstrdup(old);
        goto out;
    }
    rc = 0;
    goto out;
fail_file:
    *failed = file;
    file = NULL;
out:
    saved = errno;
    if (rc < 0 && *failed && strcmp(*failed, old) != 0)
        rt_remove_flat_dir(tmp);    /* best effort; the old checkpoint stays */
    free(file);
    free(tmp);
    free(fin);
    free(old);
    errno = saved;
    return rc;
}

void rt_checkpoint_free(RtCheckpoint *c)
{
    free(c->state);
    free(c->params);
    free(c->overridden);
    memset(c, 0, sizeof *c);
}

/* checkpoint.txt, read one line at a time. */
typedef struct CkReader {
    char *text, *next;
    int line;
    char *why;
    size_t whylen;
} CkReader;

static int ck_fail(CkReader *r, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(r->why, r->whylen, "line %d: ", r->line);
    if (n >= 0 && (size_t)n < r->whylen) {
        va_start(ap, fmt);
        vsnprintf(r->why + n, r->whylen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The next line must be `key VALUE`; *value points at VALUE (or "" for a
 * bare key). */
static int ck_line(CkReader *r, const char *key, char **value)
{
    char *nl, *line = r->next;
    size_t kl = strlen(key);
    r->line++;
    if (!line || *line == '\0')
        return ck_fail(r, "expected '%s', found the end of the file", key);
    nl = strchr(line, '\n');
    if (!nl)
        return ck_fail(r, "expected '%s', found a line without a newline", key);
    *nl = '\0';
    r->next = nl + 1;
    if (strncmp(line, key, kl) != 0 || (line[kl] != ' ' && line[kl] != '\0'))
        return ck_fail(r, "expected '%s', found '%.40s'", key, line);
    *value = line[kl] ? line + kl + 1 : line + kl;
    return 0;
}

static int ck_u64(CkReader *r, const char *key, uint64_t max, uint64_t *out)
{
    char *v, *end;
    unsigned long long x;
    if (ck_line(r, key, &v) < 0)
        return -1;
    errno = 0;
    x = strtoull(v, &end, 10);
    if (!(*v >= '0' && *v <= '9') || *end != '\0' || errno == ERANGE || x > max)
        return ck_fail(r, "%s: expected an integer 0..%llu, found '%.40s'", key,
                       (unsigned long long)max, v);
    *out = x;
    return 0;
}

static int ck_i64(CkReader *r, const char *key, int64_t max, int64_t *out)
{
    uint64_t u;
    if (ck_u64(r, key, (uint64_t)max, &u) < 0)
        return -1;
    *out = (int64_t)u;
    return 0;
}

/* 8 hex digits, as the writer's %08lx. */
static int parse_crc(const char *v, uint32_t *out)
{
    uint32_t x = 0;
    for (int i = 0; i < 8; i++) {
        int c = (unsigned char)v[i], h;
        if (c >= '0' && c <= '9')
            h = c - '0';
        else if (c >= 'a' && c <= 'f')
            h = c - 'a' + 10;
        else
            return -1;
        x = x << 4 | (uint32_t)h;
    }
    if (v[8] != '\0')
        return -1;
    *out = x;
    return 0;
}

/* `checksum FILE CRC` */
static int ck_checksum(CkReader *r, const char *file, uint32_t *out)
{
    char *v;
    size_t fl = strlen(file);
    if (ck_line(r, "checksum", &v) < 0)
        return -1;
    if (strncmp(v, file, fl) != 0 || v[fl] != ' ' || parse_crc(v + fl + 1, out) < 0)
        return ck_fail(r, "expected 'checksum %s' and 8 hex digits, found 'checksum %.40s'",
                       file, v);
    return 0;
}

/* Format 2's last line, `end CRC`, seals every byte before it.  Checked
 * before anything is read from the text, so an edited or damaged file is
 * called that, not "another model's".  Only a well-formed last line is
 * checked here: a truncated file has none, and the line-by-line reading
 * then says where it stops. */
static int ck_seal(CkReader *r)
{
    size_t len = strlen(r->text), start;
    uint32_t want;
    char last[16];
    if (len == 0 || r->text[len - 1] != '\n')
        return 0;
    start = len - 1;
    while (start > 0 && r->text[start - 1] != '\n')
        start--;
    if (len - start != 13 || strncmp(r->text + start, "end ", 4) != 0)
        return 0;
    memcpy(last, r->text + start + 4, 8);
    last[8] = '\0';
    if (parse_crc(last, &want) < 0)
        return 0;
    if ((uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)r->text, (uInt)start) != want) {
        snprintf(r->why, r->whylen, "checksum mismatch (the checkpoint was changed or damaged)");
        return -1;
    }
    return 0;
}

/* checkpoint.txt of `d`'s model; fills *c except the arrays' contents. */
static int read_checkpoint_txt(CkReader *r, const RtDesc *d, RtCheckpoint *c,
                               RtMetricsTable *t, int *wrong_model)
{
    char *v, *end;
    int64_t ss, np, nrows, ev;
    uint64_t hash;
    int64_t train_n = d->datasets[d->train].n;
    /* Before ck_line cuts the text into lines. */
    if (strncmp(r->text, "dendc-checkpoint 2\n", 19) == 0 && ck_seal(r) < 0)
        return -1;
    if (ck_line(r, "dendc-checkpoint", &v) < 0)
        return -1;
    if (strcmp(v, "1") != 0 && strcmp(v, "2") != 0)
        return ck_fail(r, "unsupported checkpoint format '%.40s'", v);
    /* Format 1 has no checksums: read with a warning (rt_run.c). */
    c->format = v[0] - '0';
    if (ck_line(r, "model", &v) < 0)
        return -1;
    if (strcmp(v, d->model) != 0) {
        *wrong_model = 1;
        snprintf(r->why, r->whylen, "it was written by model '%.100s'", v);
        return -1;
    }
    if (ck_line(r, "descriptor", &v) < 0)
        return -1;
    errno = 0;
    hash = strtoull(v, &end, 16);
    if (strlen(v) != 16 || *end != '\0' || errno == ERANGE)
        return ck_fail(r, "descriptor: expected 16 hex digits, found '%.40s'", v);
    if (hash != c->desc_hash) {
        *wrong_model = 1;
        snprintf(r->why, r->whylen,
                 "it was written by a different version of this model (descriptor differs)");
        return -1;
    }
    if (ck_i64(r, "state_size", INT64_MAX, &ss) < 0 || ck_i64(r, "nparams", INT32_MAX, &np) < 0
        || ck_i64(r, "train_samples", INT64_MAX, &c->train_n) < 0)
        return -1;
    if (ss != d->state_size || np != d->nparams || c->train_n != train_n) {
        *wrong_model = 1;
        snprintf(r->why, r->whylen, "its sizes (state %lld, %lld params, %lld training "
                 "samples) are not this model's (%lld, %d, %lld)", (long long)ss,
                 (long long)np, (long long)c->train_n, (long long)d->state_size, d->nparams,
                 (long long)train_n);
        return -1;
    }
    if (ck_u64(r, "seed", UINT64_MAX, &c->seed) < 0
        || ck_i64(r, "epochs", INT64_MAX, &c->epochs) < 0
        || ck_i64(r, "checkpoint_every", INT64_MAX, &c->every) < 0
        || ck_i64(r, "epoch", INT64_MAX, &c->epoch) < 0)
        return -1;
    if (c->epoch > c->epochs)
        return ck_fail(r, "inconsistent position: epoch %lld of a run of %lld epochs",
                       (long long)c->epoch, (long long)c->epochs);
    if (ck_i64(r, "sample", INT64_MAX, &c->sample) < 0)
        return -1;
    if (c->sample > train_n)
        return ck_fail(r, "inconsistent position: sample %lld of a training set of %lld",
                       (long long)c->sample, (long long)train_n);
    if (ck_i64(r, "evaluated", 1, &ev) < 0)
        return -1;
    c->evaluated = (int)ev;
    /* What the runtime writes: before epoch 1's training, nothing presented
     * and epoch 0 not yet evaluated; in epoch E >= 1, 1..N samples
     * presented, and all N once E is evaluated. */
    if ((c->epoch == 0 && (c->sample != 0 || c->evaluated))
        || (c->epoch > 0 && (c->sample == 0 || (c->evaluated && c->sample != train_n))))
        return ck_fail(r, "inconsistent position: epoch %lld, sample %lld, evaluated %d",
                       (long long)c->epoch, (long long)c->sample, c->evaluated);
    if (ck_u64(r, "counter", UINT64_MAX, &c->counter) < 0
        || ck_u64(r, "steps", UINT64_MAX, &c->steps) < 0)
        return -1;
    for (int i = 0; i < d->nparams; i++) {
        size_t nl = strlen(d->params[i].name);
        if (ck_line(r, "param", &v) < 0)
            return -1;
        if (strncmp(v, d->params[i].name, nl) != 0 || v[nl] != ' '
            || (strcmp(v + nl + 1, "0") != 0 && strcmp(v + nl + 1, "1") != 0))
            return ck_fail(r, "expected 'param %s 0|1', found 'param %.40s'",
                           d->params[i].name, v);
        c->overridden[i] = v[nl + 1] == '1';
    }
    if (ck_i64(r, "metrics", INT32_MAX, &nrows) < 0)
        return -1;
    for (int64_t k = 0; k < nrows; k++) {
        int64_t row;
        long long epoch;
        if (ck_line(r, "row", &v) < 0)
            return -1;
        errno = 0;
        epoch = strtoll(v, &end, 10);
        /* Rows in order, none after the position: an epoch not yet
         * evaluated has none. */
        if (!(*v >= '0' && *v <= '9') || errno == ERANGE || epoch > c->epoch
            || (epoch == c->epoch && !c->evaluated)
            || (t->nrows > 0 && epoch <= t->epochs[t->nrows - 1]))
            return ck_fail(r, "bad metrics row '%.40s'", v);
        row = rt_metrics_add_row(t, epoch);
        for (int j = 0; j < t->nmetrics; j++) {
            size_t at = (size_t)row * (size_t)t->nmetrics + (size_t)j;
            char *s = end;
            if (*s != ' ')
                return ck_fail(r, "metrics row %lld: expected %d values", epoch, t->nmetrics);
            s++;
            if (s[0] == '-' && (s[1] == ' ' || s[1] == '\0')) {
                end = s + 1;
                continue;
            }
            t->values[at] = strtod(s, &end);
            if (end == s || (*end != ' ' && *end != '\0'))
                return ck_fail(r, "metrics row %lld: bad value '%.40s'", epoch, s);
            t->have[at] = 1;
        }
        if (*end != '\0')
            return ck_fail(r, "metrics row %lld: more than %d values", epoch, t->nmetrics);
    }
    if (c->format >= 2) {
        uint32_t seal;
        if (ck_checksum(r, "state.npy", &c->state_crc) < 0
            || ck_checksum(r, "params.npy", &c->params_crc) < 0)
            return -1;
        /* ck_seal has checked a well-formed one. */
        if (ck_line(r, "end", &v) < 0)
            return -1;
        if (parse_crc(v, &seal) < 0)
            return ck_fail(r, "expected 'end' and 8 hex digits, found 'end %.40s'", v);
    } else {
        if (ck_line(r, "end", &v) < 0)
            return -1;
        if (*v != '\0')
            return ck_fail(r, "text after 'end'");
    }
    if (*r->next != '\0')
        return ck_fail(r, "text after 'end'");
    return 0;
}

/* CRLF line ends (a copy through an editor or a Windows share) become LF:
 * the writer writes no CR, so this loses nothing, and format 2's checksum
 * then proves the rest unchanged.  A CR anywhere else stays and is refused
 * by the reading. */
static void crlf_to_lf(char *text)
{
    char *w = text;
    for (const char *p = text; *p; p++)
        if (!(p[0] == '\r' && p[1] == '\n'))
            *w++ = *p;
    *w = '\0';
}

/* The npy file `name` of checkpoint `ck`, its contents, and (format 2) its
 * CRC-32 against the recorded one.  0, or -1 with *path the file and why. */
static int read_array(const char *ck, const char *name, double *data, int64_t n, int format,
                      uint32_t want, char **path, char *why, size_t whylen)
{
    uint32_t crc;
    free(*path);
    *path = rt_path_join(ck, name);
    if (rt_read_npy_vector(*path, data, n, why, whylen) < 0)
        return -1;
    if (format < 2)
        return 0;
    if (file_crc(*path, &crc, why, whylen) < 0)
        return -1;
    if (crc != want) {
        snprintf(why, whylen, "checksum mismatch (the checkpoint was changed or damaged)");
        return -1;
    }
    return 0;
}

int rt_checkpoint_read(const char *dir, const RtDesc *d, RtCheckpoint *c,
                       RtMetricsTable *table, char **where, char *why, size_t whylen)
{
    char *ck = rt_path_join(dir, "checkpoint");
    char *path = NULL;
    struct stat st;
    CkReader r = { .why = why, .whylen = whylen };
    RtCheckpoint k;
    int wrong_model = 0, rc = -1, fd;
    int64_t size;
    FILE *f = NULL;

    memset(&k, 0, sizeof k);
    *where = NULL;
    if (stat(ck, &st) < 0) {
        int e = errno;
        char *old = rt_path_join(dir, "checkpoint.old");
        /* Killed in the middle of the swap: the old one is whole. */
        if (e == ENOENT && stat(old, &st) == 0) {
            free(ck);
            ck = old;
        } else {
            free(old);
            snprintf(why, whylen, "%s", strerror(e));
            *where = ck;
            return -1;
        }
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "not a directory");
        *where = ck;
        return -1;
    }
    k.desc_hash = d->hash;
    k.overridden = rt_xcalloc((size_t)d->nparams + 1, 1);
    k.state = rt_xmalloc((size_t)d->state_size * sizeof(double) + 1);
    k.params = rt_xmalloc((size_t)d->nparams * sizeof(double) + 1);

    path = rt_path_join(ck, "checkpoint.txt");
    fd = rt_open_regular(path, &size, why, whylen);
    if (fd < 0)
        goto out;
    if (!(f = fdopen(fd, "rb"))) {
        snprintf(why, whylen, "%s", strerror(errno));
        close(fd);
        goto out;
    }
    r.text = rt_xmalloc((size_t)size + 1);
    if (fread(r.text, 1, (size_t)size, f) != (size_t)size) {
        snprintf(why, whylen, "read error: %s", ferror(f) ? strerror(errno) : "short read");
        goto out;
    }
    r.text[size] = '\0';
    if (strlen(r.text) != (size_t)size) {
        snprintf(why, whylen, "not a text file (NUL byte)");
        goto out;
    }
    crlf_to_lf(r.text);
    r.next = r.text;
    if (read_checkpoint_txt(&r, d, &k, table, &wrong_model) < 0) {
        if (wrong_model) {      /* name the checkpoint, not the file */
            free(path);
            path = rt_xstrdup(ck);
        }
        goto out;
    }
    if (read_array(ck, "state.npy", k.state, d->state_size, k.format, k.state_crc, &path,
                   why, whylen) < 0
        || read_array(ck, "params.npy", k.params, d->nparams, k.format, k.params_crc, &path,
                      why, whylen) < 0)
        goto out;
    rc = 0;
out:
    if (f)
        fclose(f);
    free(r.text);
    free(ck);
    if (rc == 0) {
        free(path);
        *c = k;
    } else {
        *where = path;
        rt_checkpoint_free(&k);
        /* Leave the table as it was: empty. */
        table->nrows = 0;
    }
    return rc;
}
