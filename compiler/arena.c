/* arena.c: the allocator, the per-compilation arena and the name interner.
 * See arena.h for why everything is arena-allocated. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long fail_countdown;

void mem_fail_after(long n) { fail_countdown = n; }

static void out_of_memory(size_t size)
{
    fprintf(stderr, "dendc: error: out of memory (allocating %zu bytes)\n", size);
    exit(1);
}

static int should_fail(void)
{
    if (fail_countdown > 0 && --fail_countdown == 0)
        return 1;
    return 0;
}

void *mem_alloc(size_t size)
{
    void *p = should_fail() ? NULL : malloc(size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

void *mem_realloc(void *old, size_t size)
{
    void *p = should_fail() ? NULL : realloc(old, size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

void mem_free(void *p) { free(p); }

/* Blocks are at least this big; larger requests get a block of their own. */
enum { BLOCK_SIZE = 64 * 1024 };

struct ArenaBlock {
    ArenaBlock *next;
    size_t size, used;
    _Alignas(max_align_t) unsigned char data[];
};

void arena_init(Arena *a) { a->head = NULL; }

void arena_free(Arena *a)
{
    for (ArenaBlock *b = a->head, *next; b; b = next) {
        next = b->next;
        mem_free(b);
    }
    a->head = NULL;
}

void *arena_alloc(Arena *a, size_t size)
{
    const size_t align = _Alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    ArenaBlock *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;
        b = mem_alloc(sizeof *b + cap);
        b->size = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(Arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(Arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void *arena_grow(Arena *a, void *items, int len, int *cap, size_t elem)
{
    if (len < *cap)
        return items;
    int n = *cap ? *cap * 2 : 8;
    void *p = arena_alloc(a, (size_t)n * elem);
    if (len)
        memcpy(p, items, (size_t)len * elem);
    *cap = n;
    return p;
}

void ptrvec_push(Arena *a, PtrVec *v, void *item)
{
    v->items = arena_grow(a, v->items, v->len, &v->cap, sizeof *v->items);
    v->items[v->len++] = item;
}

/* FNV-1a: short names, no adversary; simple beats clever here. */
static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

void intern_init(Interner *in, Arena *a)
{
    in->arena = a;
    in->cap = 256;
    in->len = 0;
    in->slots = mem_alloc(in->cap * sizeof *in->slots);
    memset(in->slots, 0, in->cap * sizeof *in->slots);
}

void intern_free(Interner *in)
{
    mem_free(in->slots);
    in->slots = NULL;
    in->cap = in->len = 0;
}

static void grow(Interner *in)
{
    size_t cap = in->cap * 2;
    const char **slots = mem_alloc(cap * sizeof *slots);
    memset(slots, 0, cap * sizeof *slots);
    for (size_t i = 0; i < in->cap; i++) {
        const char *s = in->slots[i];
        if (!s)
            continue;
        size_t j = hash(s, strlen(s)) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = s;
    }
    mem_free(in->slots);
    in->slots = slots;
    in->cap = cap;
}

const char *intern(Interner *in, const char *s, size_t n)
{
    if (2 * (in->len + 1) > in->cap)
        grow(in);
    size_t j = hash(s, n) & (in->cap - 1);
    for (; in->slots[j]; j = (j + 1) & (in->cap - 1)) {
        const char *t = in->slots[j];
        if (strncmp(t, s, n) == 0 && t[n] == 0)
            return t;
    }
    in->slots[j] = arena_strndup(in->arena, s, n);
    in->len++;
    return in->slots[j];
}

const char *intern_cstr(Interner *in, const char *s) { return intern(in, s, strlen(s)); }
