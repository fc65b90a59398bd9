/* arena.h: memory and names for one compilation.
 *
 * Every node the compiler builds (AST, IR, strings) lives in one Arena that
 * is freed once, when the compilation ends: no phase frees anything on its
 * own.  Names are interned into the same arena, so two names are equal iff
 * their pointers are equal.
 *
 * All allocation goes through mem_alloc(), which tests can make fail on
 * purpose (mem_fail_after) to check that running out of memory is reported,
 * not crashed on.
 */
#ifndef DENDC_ARENA_H
#define DENDC_ARENA_H

#include <stddef.h>

/* The one allocator.  Aborts with a message if the system is out of memory:
 * a compiler cannot do anything useful without memory, and the arena design
 * means nothing half-built escapes. */
void *mem_alloc(size_t size);
void *mem_realloc(void *p, size_t size);
void mem_free(void *p);
/* Test hook: make the Nth following allocation fail (0 = never); out of
 * memory prints the size asked for and exits 1. */
void mem_fail_after(long n);

typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
    ArenaBlock *head;       /* newest block; blocks form a list for freeing */
} Arena;

void arena_init(Arena *a);
void arena_free(Arena *a);
/* Zeroed memory aligned for any type, valid until arena_free. */
void *arena_alloc(Arena *a, size_t size);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_strdup(Arena *a, const char *s);
/* printf into the arena. */
char *arena_printf(Arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A growable array of pointers whose storage lives in an arena (old storage
 * is simply abandoned when it grows: cheap, and freed with the arena). */
typedef struct PtrVec {
    void **items;
    int len, cap;
} PtrVec;
void ptrvec_push(Arena *a, PtrVec *v, void *item);
/* The one growable-array step: `items` (len used, *cap allocated, each
 * elem bytes) with room for one more, doubling into the arena when full
 * (the old storage is abandoned, as above).  Usage:
 *     v->items = arena_grow(a, v->items, v->len, &v->cap, sizeof *v->items);
 *     v->items[v->len++] = x; */
void *arena_grow(Arena *a, void *items, int len, int *cap, size_t elem);

/* Interned strings: a hash set in the arena. */
typedef struct Interner {
    Arena *arena;
    const char **slots;     /* open addressing; NULL = empty */
    size_t cap, len;
} Interner;

void intern_init(Interner *in, Arena *a);
void intern_free(Interner *in);
const char *intern(Interner *in, const char *s, size_t n);
const char *intern_cstr(Interner *in, const char *s);

#endif
