/* check_lexer.c: unit tests for the scanner (lex.l).
 *
 * Drives yylex() directly on strings and checks token kinds, values and byte
 * spans, and the located diagnostics of bad input (captured through a
 * memstream given to diag_init).
 */
#define _POSIX_C_SOURCE 200809L     /* open_memstream */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dendc.h"
#include "parse.h"

enum { MAX_TOKS = 4096 };

typedef struct Tok {
    int kind;
    Loc loc;
    YYSTYPE val;
} Tok;

/* One scanned input: its tokens and everything diag printed. */
typedef struct Lexed {
    Comp c;
    SrcFile *src;
    char *out;
    size_t out_len;
    FILE *out_fp;
    Tok toks[MAX_TOKS];
    int n;                  /* tokens, not counting the end of file */
    Loc eof;                /* location given with the end of file */
} Lexed;

static Lexed *lex_string(const char *text, size_t len)
{
    Lexed *L = calloc(1, sizeof *L);
    L->out_fp = open_memstream(&L->out, &L->out_len);
    comp_init(&L->c, L->out_fp);
    L->src = diag_src_from_string(&L->c.arena, "t.dend", text, len);
    ParseCtx *p = calloc(1, sizeof *p);
    p->c = &L->c;
    p->src = L->src;
    void *sc = lex_open(p);
    for (;;) {
        Tok t;
        memset(&t, 0, sizeof t);
        t.kind = yylex(&t.val, &t.loc, sc);
        if (t.kind == TOK_YYEOF) {
            L->eof = t.loc;
            break;
        }
        ck_assert_int_lt(L->n, MAX_TOKS);
        L->toks[L->n++] = t;
    }
    lex_close(sc);
    free(p);
    fflush(L->out_fp);
    return L;
}

static Lexed *lex(const char *text)
{
    return lex_string(text, strlen(text));
}

static void lexed_free(Lexed *L)
{
    fclose(L->out_fp);
    free(L->out);
    comp_free(&L->c);
    free(L);
}

static int errors(const Lexed *L) { return diag_count(&L->c.diag); }

static void expect_kinds(const Lexed *L, const int *kinds, int n)
{
    ck_assert_int_eq(L->n, n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(L->toks[i].kind == kinds[i], "token %d: kind %d, expected %d",
                      i, L->toks[i].kind, kinds[i]);
}

static void expect_line_col(const Lexed *L, uint32_t off, int line, int col)
{
    int l, c;
    diag_line_col(L->src, off, &l, &c);
    ck_assert_int_eq(l, line);
    ck_assert_int_eq(c, col);
}

/* ---- tokens ---- */

START_TEST(test_punctuation)
{
    Lexed *L = lex("-> == != <= >= < > = + - * / ^ @ ! ( ) [ ] { } . , ; :");
    static const int k[] = {
        TOK_ARROW, TOK_EQ, TOK_NE, TOK_LE, TOK_GE, '<', '>', '=', '+', '-', '*', '/',
        '^', '@', '!', '(', ')', '[', ']', '{', '}', '.', ',', ';', ':',
    };
    expect_kinds(L, k, (int)(sizeof k / sizeof k[0]));
    ck_assert_int_eq(errors(L), 0);
    /* Spans are byte offsets [lo, hi). */
    ck_assert_uint_eq(L->toks[0].loc.lo, 0);
    ck_assert_uint_eq(L->toks[0].loc.hi, 2);
    ck_assert_uint_eq(L->toks[5].loc.lo, 15);
    ck_assert_uint_eq(L->toks[5].loc.hi, 16);
    lexed_free(L);
}
END_TEST

START_TEST(test_keywords)
{
    Lexed *L = lex("model import param fn neuron soma leak dendrite noise per_step rate "
                   "input lowpass pop connect as init learn filter nudge toward rule "
                   "teacher seed weights target experiment data dt epochs epoch "
                   "present for every evaluate");
    static const int k[] = {
        TOK_KW_MODEL, TOK_KW_IMPORT, TOK_KW_PARAM, TOK_KW_FN, TOK_KW_NEURON,
        TOK_KW_SOMA, TOK_KW_LEAK, TOK_KW_DENDRITE, TOK_KW_NOISE, TOK_KW_PER_STEP,
        TOK_KW_RATE, TOK_KW_INPUT, TOK_KW_LOWPASS, TOK_KW_POP, TOK_KW_CONNECT,
        TOK_KW_AS, TOK_KW_INIT, TOK_KW_LEARN, TOK_KW_FILTER, TOK_KW_NUDGE,
        TOK_KW_TOWARD, TOK_KW_RULE, TOK_KW_TEACHER, TOK_KW_SEED, TOK_KW_WEIGHTS,
        TOK_KW_TARGET, TOK_KW_EXPERIMENT, TOK_KW_DATA, TOK_KW_DT, TOK_KW_EPOCHS,
        TOK_KW_EPOCH, TOK_KW_PRESENT, TOK_KW_FOR, TOK_KW_EVERY, TOK_KW_EVALUATE,
    };
    expect_kinds(L, k, (int)(sizeof k / sizeof k[0]));
    /* Keywords carry their spelling, so the grammar can use them as names. */
    ck_assert_str_eq(L->toks[7].val.TOK_KW_DENDRITE, "dendrite");
    ck_assert_int_eq(errors(L), 0);
    lexed_free(L);
}
END_TEST

START_TEST(test_keyword_lookup)
{
    ck_assert_int_eq(lex_keyword("model", 5), TOK_KW_MODEL);
    ck_assert_int_eq(lex_keyword("as", 2), TOK_KW_AS);
    ck_assert_int_eq(lex_keyword("weights", 7), TOK_KW_WEIGHTS);
    ck_assert_int_eq(lex_keyword("epoch", 5), TOK_KW_EPOCH);
    ck_assert_int_eq(lex_keyword("epochs", 6), TOK_KW_EPOCHS);
    ck_assert_int_eq(lex_keyword("epochsx", 7), 0);
    ck_assert_int_eq(lex_keyword("mode", 4), 0);
    ck_assert_int_eq(lex_keyword("a", 1), 0);
    ck_assert_int_eq(lex_keyword("zzz", 3), 0);
    ck_assert_int_eq(lex_keyword("fnx", 2), TOK_KW_FN);    /* length counts, not the NUL */
}
END_TEST

START_TEST(test_identifiers)
{
    Lexed *L = lex("g_l _x models x1 g_l sample post pre");
    ck_assert_int_eq(L->n, 8);
    for (int i = 0; i < L->n; i++)
        ck_assert_int_eq(L->toks[i].kind, TOK_IDENT);
    ck_assert_str_eq(L->toks[0].val.TOK_IDENT, "g_l");
    ck_assert_str_eq(L->toks[2].val.TOK_IDENT, "models");   /* not 'model' + 's' */
    /* Interned: the same name is the same pointer. */
    ck_assert_ptr_eq(L->toks[0].val.TOK_IDENT, L->toks[4].val.TOK_IDENT);
    ck_assert_ptr_eq(L->toks[0].val.TOK_IDENT, intern_cstr(&L->c.names, "g_l"));
    lexed_free(L);
}
END_TEST

START_TEST(test_numbers)
{
    Lexed *L = lex("0 42 3.5 .25 1. 1e3 2.5E-2 6e+1 0x1");
    static const double v[] = { 0, 42, 3.5, 0.25, 1, 1000, 0.025, 60, 0 };
    ck_assert_int_eq(L->n, 10);     /* 0x1 is the number 0 then the name x1 */
    for (int i = 0; i < 9; i++) {
        ck_assert_int_eq(L->toks[i].kind, TOK_NUMBER);
        ck_assert_double_eq(L->toks[i].val.TOK_NUMBER, v[i]);
    }
    ck_assert_int_eq(L->toks[9].kind, TOK_IDENT);
    ck_assert_int_eq(errors(L), 0);
    lexed_free(L);
}
END_TEST

START_TEST(test_units)
{
    Lexed *L = lex("30 ms 2 s 2s 0.1ms 1e-3 s 3\tms 4 sec 5\nms");
    /* 30 2000 2000 0.1 1 3 | 4 sec | 5 ms-on-the-next-line */
    static const double v[] = { 30, 2000, 2000, 0.1, 1, 3 };
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(L->toks[i].kind, TOK_NUMBER);
        ck_assert_double_eq_tol(L->toks[i].val.TOK_NUMBER, v[i], 1e-12);
    }
    /* The unit is part of the number's span. */
    ck_assert_uint_eq(L->toks[0].loc.lo, 0);
    ck_assert_uint_eq(L->toks[0].loc.hi, 5);
    /* Not a unit: the word comes back as a name. */
    ck_assert_int_eq(L->toks[6].kind, TOK_NUMBER);
    ck_assert_double_eq(L->toks[6].val.TOK_NUMBER, 4);
    ck_assert_uint_eq(L->toks[6].loc.hi - L->toks[6].loc.lo, 1);
    ck_assert_int_eq(L->toks[7].kind, TOK_IDENT);
    ck_assert_str_eq(L->toks[7].val.TOK_IDENT, "sec");
    /* A unit must be on the number's line. */
    ck_assert_int_eq(L->toks[8].kind, TOK_NUMBER);
    ck_assert_double_eq(L->toks[8].val.TOK_NUMBER, 5);
    ck_assert_int_eq(L->toks[9].kind, TOK_IDENT);
    ck_assert_int_eq(L->n, 10);
    ck_assert_int_eq(errors(L), 0);
    lexed_free(L);
}
END_TEST

START_TEST(test_bad_numbers)
{
    Lexed *L = lex("1e + 1e999");
    ck_assert_int_eq(errors(L), 2);
    ck_assert_ptr_nonnull(strstr(L->out, "t.dend:1:1: error: malformed number '1e'"));
    ck_assert_ptr_nonnull(strstr(L->out, "t.dend:1:6: error: number '1e999' is too large"));
    ck_assert_int_eq(L->n, 3);      /* both still come through as numbers */
    lexed_free(L);
}
END_TEST

START_TEST(test_derivative)
{
    Lexed *L = lex("du/dt dW_1/dt du / dt dx/dty dendrite/dt");
    static const int k[] = {
        TOK_DERIV, TOK_DERIV, TOK_IDENT, '/', TOK_KW_DT, TOK_IDENT, '/', TOK_IDENT, TOK_DERIV,
    };
    expect_kinds(L, k, (int)(sizeof k / sizeof k[0]));
    ck_assert_str_eq(L->toks[0].val.TOK_DERIV, "u");
    ck_assert_ptr_eq(L->toks[0].val.TOK_DERIV, intern_cstr(&L->c.names, "u"));
    ck_assert_str_eq(L->toks[1].val.TOK_DERIV, "W_1");
    ck_assert_uint_eq(L->toks[0].loc.lo, 0);
    ck_assert_uint_eq(L->toks[0].loc.hi, 5);
    /* dx/dty: a name divided by a name, offsets still right */
    ck_assert_str_eq(L->toks[5].val.TOK_IDENT, "dx");
    ck_assert_uint_eq(L->toks[5].loc.lo, 22);
    ck_assert_uint_eq(L->toks[5].loc.hi, 24);
    ck_assert_uint_eq(L->toks[6].loc.lo, 24);
    ck_assert_str_eq(L->toks[7].val.TOK_IDENT, "dty");
    ck_assert_str_eq(L->toks[8].val.TOK_DERIV, "endrite");
    lexed_free(L);
}
END_TEST

START_TEST(test_strings)
{
    Lexed *L = lex("\"plain\" \"a\\\"b\\\\c\\nd\\te\" \"# not a comment\" \"\xc3\xa9t\xc3\xa9\"");
    ck_assert_int_eq(L->n, 4);
    ck_assert_int_eq(L->toks[0].kind, TOK_STRING);
    ck_assert_str_eq(L->toks[0].val.TOK_STRING, "plain");
    ck_assert_str_eq(L->toks[1].val.TOK_STRING, "a\"b\\c\nd\te");
    ck_assert_str_eq(L->toks[2].val.TOK_STRING, "# not a comment");
    ck_assert_str_eq(L->toks[3].val.TOK_STRING, "\xc3\xa9t\xc3\xa9");   /* UTF-8 is fine in strings */
    ck_assert_uint_eq(L->toks[0].loc.lo, 0);
    ck_assert_uint_eq(L->toks[0].loc.hi, 7);
    ck_assert_int_eq(errors(L), 0);
    lexed_free(L);
}
END_TEST

START_TEST(test_bad_escape)
{
    Lexed *L = lex("x \"a\\qb\"");
    ck_assert_int_eq(errors(L), 1);
    ck_assert_ptr_nonnull(strstr(L->out, "t.dend:1:5: error: unknown escape '\\q' in string"));
    ck_assert_int_eq(L->n, 2);
    ck_assert_str_eq(L->toks[1].val.TOK_STRING, "aqb");
    lexed_free(L);
}
END_TEST

START_TEST(test_unterminated_string)
{
    Lexed *L = lex("model m\nparam t = \"abc\nparam b = 1");
    ck_assert_int_eq(errors(L), 1);
    /* Reported at the opening quote. */
    ck_assert_ptr_nonnull(strstr(L->out, "t.dend:2:11: error: unterminated string"));
    ck_assert_ptr_nonnull(strstr(L->out, "    2 | param t = \"abc\n      |           ^\n"));
    /* Returned as a string, and scanning goes on at the next line. */
    ck_assert_int_eq(L->toks[5].kind, TOK_STRING);
    ck_assert_str_eq(L->toks[5].val.TOK_STRING, "abc");
    ck_assert_int_eq(L->toks[6].kind, TOK_KW_PARAM);
    ck_assert_int_eq(L->n, 10);
    lexed_free(L);

    L = lex("t = \"abc\r\ny");  /* CRLF ends it too, and is not part of it */
    ck_assert_int_eq(errors(L), 1);
    ck_assert_str_eq(L->toks[2].val.TOK_STRING, "abc");
    ck_assert_int_eq(L->n, 4);
    lexed_free(L);

    L = lex("\"abc\\");     /* ends in a backslash at the end of the file */
    ck_assert_int_eq(errors(L), 1);
    ck_assert_ptr_nonnull(strstr(L->out, "t.dend:1:1: error: unterminated string"));
    ck_assert_int_eq(L->n, 1);
    lexed_free(L);
}
END_TEST

START_TEST(test_comments)
{
    Lexed *L = lex("# whole line\nx # to the end ( \" \xff\n# last line, no newline");
    ck_assert_int_eq(L->n, 1);
    ck_assert_int_eq(L->toks[0].kind, TOK_IDENT);
    ck_assert_uint_eq(L->toks[0].loc.lo, 13);
    ck_assert_int_eq(errors(L), 0);
    lexed_free(L);
}
END_TEST

START_TEST(test_crlf)
{
    Lexed *L = lex("param a = 1\r\n\r\nneuron N {\r\n  soma u leak g\r\n}\r\n");
    ck_assert_int_eq(errors(L), 0);
    ck_assert_int_eq(L->n, 12);
    expect_line_col(L, L->toks[0].loc.lo, 1, 1);    /* param */
    expect_line_col(L, L->toks[4].loc.lo, 3, 1);    /* neuron */
    expect_line_col(L, L->toks[7].loc.lo, 4, 3);    /* soma */
    expect_line_col(L, L->toks[10].loc.lo, 4, 15);  /* g */
    expect_line_col(L, L->toks[11].loc.lo, 5, 1);   /* } */
    ck_assert_uint_eq(L->toks[3].loc.hi, 11);       /* '1' ends before the \r */
    lexed_free(L);
}
END_TEST

START_TEST(test_nul_byte)
{
    static const char text[] = "param a = 1\0 + 2\n";
    Lexed *L = lex_string(text, sizeof text - 1);
    ck_assert_int_eq(errors(L), 1);
    ck_assert_ptr_nonnull(strstr(L->out, "t.dend:1:12: error: invalid character '\\x00'"));
    /* The NUL is skipped and scanning goes on past it. */
    static const int k[] = { TOK_KW_PARAM, TOK_IDENT, '=', TOK_NUMBER, '+', TOK_NUMBER };
    expect_kinds(L, k, 6);
    ck_assert_uint_eq(L->toks[4].loc.lo, 13);
    lexed_free(L);
}
END_TEST

START_TEST(test_invalid_characters)
{
    Lexed *L = lex("a $ b \xe2\x80\x94 c \x01 d ` '");
    ck_assert_int_eq(L->n, 4);
    ck_assert_int_eq(errors(L), 5);
    ck_assert_ptr_nonnull(strstr(L->out, "t.dend:1:3: error: invalid character '$'"));
    /* One UTF-8 character is one error, bytes shown as \xNN. */
    ck_assert_ptr_nonnull(strstr(L->out, "t.dend:1:7: error: invalid characters '\\xE2\\x80\\x94'"));
    ck_assert_ptr_nonnull(strstr(L->out, "t.dend:1:13: error: invalid character '\\x01'"));
    ck_assert_ptr_nonnull(strstr(L->out, "t.dend:1:17: error: invalid character '`'"));
    ck_assert_ptr_nonnull(strstr(L->out, "t.dend:1:19: error: invalid character '\\''"));
    lexed_free(L);
}
END_TEST

START_TEST(test_eof_location)
{
    Lexed *L = lex("x  \n");
    ck_assert_uint_eq(L->eof.lo, 4);
    ck_assert_uint_eq(L->eof.hi, 4);
    lexed_free(L);

    L = lex("");
    ck_assert_int_eq(L->n, 0);
    ck_assert_uint_eq(L->eof.lo, 0);
    ck_assert_int_eq(errors(L), 0);
    lexed_free(L);
}
END_TEST

START_TEST(test_long_token)
{
    size_t n = 1 << 20;
    char *text = malloc(n + 16);
    memcpy(text, "x = ", 4);
    memset(text + 4, 'a', n);
    memcpy(text + 4 + n, " 1", 3);
    Lexed *L = lex(text);
    ck_assert_int_eq(L->n, 4);
    ck_assert_uint_eq(L->toks[2].loc.hi - L->toks[2].loc.lo, n);
    ck_assert_uint_eq(strlen(L->toks[2].val.TOK_IDENT), n);
    ck_assert_uint_eq(L->toks[3].loc.lo, n + 5);
    lexed_free(L);
    free(text);
}
END_TEST

START_TEST(test_deep_parens)
{
    /* DEPTH_LIMIT + 44 '(' then one ')': the first '(' past the limit starts
     * a group skipped to the end of the file, reported once, with no token. */
    enum { N = DEPTH_LIMIT + 44 };
    char text[N + 2], want[96];
    memset(text, '(', N);
    text[N] = ')';
    text[N + 1] = 0;
    Lexed *L = lex(text);
    ck_assert_int_eq(errors(L), 1);
    snprintf(want, sizeof want, "t.dend:1:%d: error: expression nested too deeply (limit %d)",
             DEPTH_LIMIT + 1, DEPTH_LIMIT);
    ck_assert_ptr_nonnull(strstr(L->out, want));
    ck_assert_int_eq(L->n, DEPTH_LIMIT);
    lexed_free(L);

    /* Closed: the too-deep group comes back as one number spanning it. */
    char *t2 = malloc(2 * N + 2);
    memset(t2, '(', N);
    t2[N] = 'x';
    memset(t2 + N + 1, ')', N);
    t2[2 * N + 1] = 0;
    L = lex(t2);
    ck_assert_int_eq(errors(L), 1);
    ck_assert_int_eq(L->n, DEPTH_LIMIT + 1 + DEPTH_LIMIT);
    Tok t = L->toks[DEPTH_LIMIT];
    ck_assert_int_eq(t.kind, TOK_NUMBER);
    ck_assert_uint_eq(t.loc.lo, DEPTH_LIMIT);
    ck_assert_uint_eq(t.loc.hi, 2 * N + 1 - DEPTH_LIMIT);
    ck_assert_int_eq(L->toks[DEPTH_LIMIT + 1].kind, ')');
    lexed_free(L);
    free(t2);
}
END_TEST

/* Running out of memory is reported and exits 1 (tcase_add_exit_test
 * checks the status), never a crash on a NULL. */
START_TEST(test_out_of_memory_exits_1)
{
    mem_fail_after(1);
    (void)mem_alloc(64);
    ck_abort_msg("mem_alloc returned after a failed allocation");
}
END_TEST

START_TEST(test_out_of_memory_in_arena_exits_1)
{
    Arena a;
    arena_init(&a);
    (void)arena_alloc(&a, 16);      /* the first block */
    mem_fail_after(1);
    (void)arena_alloc(&a, 1 << 20); /* needs a new block: fails */
    ck_abort_msg("arena_alloc returned after a failed allocation");
}
END_TEST

static Suite *lexer_suite(void)
{
    Suite *s = suite_create("lexer");
    TCase *tc = tcase_create("tokens");
    tcase_add_test(tc, test_punctuation);
    tcase_add_test(tc, test_keywords);
    tcase_add_test(tc, test_keyword_lookup);
    tcase_add_test(tc, test_identifiers);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_units);
    tcase_add_test(tc, test_derivative);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_comments);
    tcase_add_test(tc, test_crlf);
    tcase_add_test(tc, test_eof_location);
    tcase_add_test(tc, test_long_token);
    suite_add_tcase(s, tc);

    TCase *bad = tcase_create("errors");
    tcase_add_test(bad, test_bad_numbers);
    tcase_add_test(bad, test_bad_escape);
    tcase_add_test(bad, test_unterminated_string);
    tcase_add_test(bad, test_nul_byte);
    tcase_add_exit_test(bad, test_out_of_memory_exits_1, 1);
    tcase_add_exit_test(bad, test_out_of_memory_in_arena_exits_1, 1);
    tcase_add_test(bad, test_invalid_characters);
    tcase_add_test(bad, test_deep_parens);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lexer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
