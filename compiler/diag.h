/* diag.h: source files, spans and diagnostics.
 *
 * A Span is a byte range in one loaded source file.  Line and column are
 * computed only when a diagnostic is printed (a line table is built lazily),
 * so the lexer never tracks them and CRLF files cannot throw them off.
 *
 * Every phase reports through diag_error() and keeps going; the pipeline
 * checks diag_count() between phases and stops before the next one.  Output
 * format, one per error:
 *
 *     file:line:col: error: message
 *        12 |     dendrite apicl g_A
 *           |              ^~~~~
 *     file:line:col: note: did you mean 'apical'?
 */
#ifndef DENDC_DIAG_H
#define DENDC_DIAG_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

#include "arena.h"

typedef struct SrcFile {
    const char *path;       /* as the user named it (or the stdlib path) */
    const char *text;       /* whole contents, NUL-terminated (embedded NULs are lexed as errors) */
    size_t len;             /* bytes, not counting the terminator */
    Arena *arena;           /* where the line table goes */
    uint32_t *line_starts;  /* lazily built: byte offset of each line start */
    int nlines;
} SrcFile;

typedef struct Span {
    const SrcFile *file;    /* NULL for compiler-made nodes with no source */
    uint32_t lo, hi;        /* byte offsets, [lo, hi) */
} Span;

typedef enum DiagLevel { DIAG_ERROR, DIAG_NOTE } DiagLevel;

typedef struct Diag {
    FILE *out;              /* where messages go (stderr; a memstream in tests) */
    int errors;
    int max_errors;         /* stop printing after this many (0 = no limit) */
    Span last_error;        /* notes quote the source only when their span differs */
    int suppressed;         /* past max_errors: drop the notes of dropped errors too */
} Diag;

void diag_init(Diag *d, FILE *out);

/* The largest source file read, in bytes: far above any model written by
 * hand or generated, far below what spans (32-bit offsets) and the scanner
 * could hold, and small enough that an endless input is refused at once. */
enum { DIAG_MAX_SOURCE = 16 << 20 };

/* Load a file into the arena.  Returns NULL and reports (with no span) if the
 * path is missing, a directory, unreadable or over DIAG_MAX_SOURCE. */
SrcFile *diag_load_file(Diag *d, Arena *a, const char *path);
/* Make a SrcFile from memory (tests, stdin). */
SrcFile *diag_src_from_string(Arena *a, const char *path, const char *text, size_t len);

Span span_make(const SrcFile *f, uint32_t lo, uint32_t hi);

/* 1-based line and column (column counts bytes; tabs count as one). */
void diag_line_col(const SrcFile *f, uint32_t off, int *line, int *col);

void diag_error(Diag *d, Span sp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A note attached to the previous error (printed without the source line
 * when the span is the same as the error's, with it otherwise). */
void diag_note(Diag *d, Span sp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An error with no location (a missing file, a bad command line). */
void diag_plain_error(Diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int diag_count(const Diag *d);     /* errors so far */

/* "Did you mean" support: the candidate closest to `name` by edit distance,
 * or NULL when nothing is close enough to be a plausible typo. */
const char *diag_closest(const char *name, const char *const *cands, int n);

#endif
