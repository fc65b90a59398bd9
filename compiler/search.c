/* search.c: `dendc search MODEL.dend --param ... --trials N --maximize M`,
 * a hyperparameter search with Optuna over runs of the compiled model.
 *
 *   dendc search MODEL.dend --param NAME=[log:|int:]MIN..MAX... --trials N
 *                (--maximize M | --minimize M) [--variant V] [--seeds A..B]
 *                [--epochs E] [--out DIR] [--storage URL] [--study NAME]
 *                [--jobs N] [--quiet] [-- MODEL-ARGS]
 *
 * The half that knows the model is here, the half that knows Optuna is a
 * Python script (tools/dendc_search.py, installed in $(pkgdatadir)/tools).
 * This half checks the whole command line, then that Optuna imports, then
 * compiles the model once (driver_compile, as `dendc compare` does) into a
 * temporary directory and asks the executable for its params and metrics
 * (--list-params, --list-metrics, with the variant and MODEL-ARGS, which
 * that checks): an unknown param or metric is refused with nothing written.
 * Only then does DIR get the executable, DIR/MODEL.bin, and this process
 * becomes the script (exec), with the checked arguments and the model's
 * values of the searched params (the first trial of a new study).  Each
 * trial is a run anyone can repeat: `DIR/MODEL.bin --set NAME=VALUE ...`.
 *
 * Exit status: 2 for a bad command line, an unknown param or metric
 * (nothing written); 1 when the model does not compile, Optuna or the
 * script is missing, or the search fails; else the script's (0, or 130
 * after Ctrl-C).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "driver.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "diag.h"
#include "rt_internal.h"    /* rt_mkdir_p */

#ifndef DENDC_TOOLS_DIR
#define DENDC_TOOLS_DIR "/usr/local/share/dendc/tools"
#endif
#ifndef DENDC_PYTHON
#define DENDC_PYTHON "python3"
#endif

extern char **environ;

enum { MAX_TRIALS = 1000000, MAX_JOBS = 256, MAX_SEEDS = 1000 };

/* How a param is drawn: Optuna's suggest_float, its log=True, suggest_int. */
typedef enum ParamKind { PARAM_FLOAT, PARAM_LOG, PARAM_INT } ParamKind;
static const char *const kind_names[] = { "float", "log", "int" };

typedef struct Param {
    const char *spec;       /* as given, for messages */
    const char *name;
    ParamKind kind;
    double lo, hi;          /* lo < hi; PARAM_LOG: lo > 0; PARAM_INT: whole numbers */
    const char *value;      /* the model's value (--list-params), or NULL */
} Param;

typedef struct Search {
    Arena arena;
    const char *model;      /* the .dend file */
    const char *name;       /* its name without .dend */
    Param *params;
    int nparams;
    unsigned long long trials, jobs;
    const char *metric;
    const char *direction;  /* "maximize" or "minimize" */
    const char *variant, *seeds, *epochs, *out, *storage, *study;
    int quiet;
    int nargs;              /* MODEL-ARGS, after '--' */
    char **args;
    const char *tmpdir;     /* where the model is compiled and checked */
    const char *tmpexe;
    int holding;            /* Ctrl-C and the like held back while tmpdir exists ... */
    struct sigaction old_actions[3];    /* ... and what they did before */
} Search;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: dendc search MODEL.dend --param NAME=[log:|int:]MIN..MAX... --trials N\n"
        "                    (--maximize METRIC | --minimize METRIC) [--variant V]\n"
        "                    [--seeds A..B] [--epochs E] [--out DIR] [--storage URL]\n"
        "                    [--study NAME] [--jobs N] [--quiet] [-- MODEL-ARGS]\n"
        "\n"
        "Search the params of a model with Optuna (TPE sampler, median pruning on\n"
        "the metric's value after each epoch): compile the model once, then run it\n"
        "once per trial (and seed) with --set NAME=VALUE, keeping every trial in a\n"
        "database, so that the same command run again goes on where it stopped.\n"
        "\n"
        "options:\n"
        "  --param NAME=MIN..MAX      a param drawn uniformly from [MIN, MAX];\n"
        "        NAME=log:MIN..MAX    log-uniformly (0 < MIN);\n"
        "        NAME=int:MIN..MAX    an integer (repeat --param for each param)\n"
        "  --trials N       the study's size: trials complete, pruned or failed,\n"
        "                   over every run of the command (1 .. %d)\n"
        "  --maximize M, --minimize M   the metric (a column of metrics.csv) whose\n"
        "                   value after the last epoch is the trial's value\n"
        "  --variant V      search variant V of the model\n"
        "  --seeds A..B     run each trial once per seed, at once; its value is the mean\n"
        "  --epochs E       train each run for E epochs (default: the model's)\n"
        "  --out DIR        where everything goes (default search_out): DIR/MODEL.bin,\n"
        "                   DIR/trials/N/ (each trial's run, or runs seedS/),\n"
        "                   DIR/trials.csv, DIR/study.db\n"
        "  --storage URL    Optuna's storage (default sqlite:///DIR/study.db); share it\n"
        "                   to search from several processes or machines\n"
        "  --study NAME     the study's name in the storage (default: the model's name,\n"
        "                   -VARIANT with --variant)\n"
        "  --jobs N         trials at once, each in a process of its own (1 .. %d)\n"
        "  --quiet          no line per trial\n"
        "  -- MODEL-ARGS    options given to every run (e.g. -- --data-seed test=41)\n"
        "\n"
        "environment: DENDC_PYTHON (a python3 with Optuna; default %s),\n"
        "DENDC_TOOLS (the directory of dendc_search.py)\n",
        MAX_TRIALS, MAX_JOBS, DENDC_PYTHON);
}

/* The options dendc search gives each run itself, refused after '--'. */
static const DriverOwned owned[] = {
    { "--seed", "give --seeds to 'dendc search'" },
    { "--seeds", "give --seeds to 'dendc search'" },
    { "--epochs", "give --epochs to 'dendc search'" },
    { "--out", "give --out to 'dendc search'" },
    { "--variant", "give --variant to 'dendc search'" },
    { "--compare", "a search runs one variant" },
    { "--sweep", "a trial is one point: give the params to search with --param" },
    { "--threads", "give --jobs to 'dendc search'" },
    { "--resume", "each trial is a fresh run" },
    { "--bench", "a trial is a run, not a benchmark" },
    { "--validate-steady", "a trial is a run" },
    { "--list-variants", "a trial is a run" },
    { "--list-params", "a trial is a run" },
    { "--list-metrics", "a trial is a run" },
    { "--quiet", "every run is quiet" },
    { "--help", "see 'dendc search --help' and './MODEL --help'" },
    { "-h", "see 'dendc search --help' and './MODEL --help'" },
};


/* A whole finite number, for a range bound: strtod's, with nothing after. */
static int bound(const char *s, size_t len, ParamKind kind, double *x)
{
    char buf[64], *end;
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (kind == PARAM_INT) {
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (errno || *end || v < -(1LL << 53) || v > (1LL << 53))
            return -1;
        *x = (double)v;
        return 0;
    }
    *x = strtod(buf, &end);
    return *end || !isfinite(*x) ? -1 : 0;
}

/* NAME=[log:|int:]MIN..MAX.  0, or -1 after a message. */
static int parse_param(Search *s, const char *spec, Param *p)
{
    const char *eq = strchr(spec, '=');
    memset(p, 0, sizeof *p);
    p->spec = spec;
    if (!eq || eq == spec) {
        fprintf(stderr, "dendc: error: --param '%s': expected NAME=MIN..MAX, NAME=log:MIN..MAX "
                        "or NAME=int:MIN..MAX\n", spec);
        return -1;
    }
    p->name = arena_strndup(&s->arena, spec, (size_t)(eq - spec));
    const char *r = eq + 1;
    if (strncmp(r, "log:", 4) == 0) {
        p->kind = PARAM_LOG;
        r += 4;
    } else if (strncmp(r, "int:", 4) == 0) {
        p->kind = PARAM_INT;
        r += 4;
    }
    /* The first ".." after the first character: MIN may be negative. */
    const char *dots = *r ? strstr(r + 1, "..") : NULL;
    double lo, hi;
    if (!dots || bound(r, (size_t)(dots - r), p->kind, &lo) < 0
        || bound(dots + 2, strlen(dots + 2), p->kind, &hi) < 0) {
        fprintf(stderr, "dendc: error: --param '%s': expected %s=%sMIN..MAX with %s\n", spec,
                p->name, p->kind == PARAM_LOG ? "log:" : p->kind == PARAM_INT ? "int:" : "",
                p->kind == PARAM_INT ? "MIN and MAX whole numbers" : "MIN and MAX finite numbers");
        return -1;
    }
    if (!(lo < hi)) {
        fprintf(stderr, "dendc: error: --param '%s': the range is empty: MIN (%g) must be less "
                        "than MAX (%g)\n", spec, lo, hi);
        return -1;
    }
    if (p->kind == PARAM_LOG && !(lo > 0)) {
        fprintf(stderr, "dendc: error: --param '%s': a log range needs MIN > 0, found %g\n", spec,
                lo);
        return -1;
    }
    p->lo = lo;
    p->hi = hi;
    return 0;
}

/* "N" or "A..B", A <= B, at most MAX_SEEDS seeds. */
static int parse_seeds(const char *s)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long a = strtoull(s, &end, 10), b = a;
    if (end[0] == '.' && end[1] == '.') {
        if (end[2] < '0' || end[2] > '9')
            return -1;
        b = strtoull(end + 2, &end, 10);
    }
    return errno || *end || b < a || b - a >= MAX_SEEDS ? -1 : 0;
}

/* Returns -1 to go on, else an exit status. */
static int parse_args(Search *s, int argc, char **argv)
{
    const char *trials = NULL, *jobs = NULL;
    s->params = arena_alloc(&s->arena, (size_t)argc * sizeof *s->params);
    s->out = "search_out";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--") == 0) {
            s->nargs = argc - i - 1;
            s->args = argv + i + 1;
            if (driver_refuse_owned(s->nargs, s->args, owned, sizeof owned / sizeof owned[0], "search") < 0)
                return 2;
            break;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--quiet") == 0) {
            s->quiet = 1;
            continue;
        }
        /* Every other option takes a value. */
        static const char *const valued[] = {
            "--param", "--trials", "--maximize", "--minimize", "--variant", "--seeds",
            "--epochs", "--out", "--storage", "--study", "--jobs",
        };
        int which = -1;
        for (int k = 0; k < (int)(sizeof valued / sizeof valued[0]) && which < 0; k++) {
            v = driver_option_value(argc, argv, &i, valued[k]);
            if (!v || *v)
                which = k;
            if (v && !*v && strcmp(a, valued[k]) == 0)
                which = k;     /* `--out ''`: an empty value, refused below */
        }
        if (which < 0 && a[0] == '-' && a[1]) {
            fprintf(stderr, "dendc: error: unknown option '%s' for 'dendc search' "
                            "(see 'dendc search --help')\n", a);
            return 2;
        }
        if (which < 0) {
            if (s->model) {
                fprintf(stderr, "dendc: error: 'dendc search' takes one model file, found "
                                "'%s' and '%s'\n", s->model, a);
                return 2;
            }
            s->model = a;
            continue;
        }
        if (!v || !*v) {
            fprintf(stderr, "dendc: error: '%s' needs a value (see 'dendc search --help')\n",
                    valued[which]);
            return 2;
        }
        switch (which) {
        case 0:
            if (parse_param(s, v, &s->params[s->nparams]) < 0)
                return 2;
            for (int k = 0; k < s->nparams; k++)
                if (strcmp(s->params[k].name, s->params[s->nparams].name) == 0) {
                    fprintf(stderr, "dendc: error: --param '%s' is given twice\n",
                            s->params[k].name);
                    return 2;
                }
            s->nparams++;
            break;
        case 1: trials = v; break;
        case 2:
        case 3:
            if (s->metric) {
                fprintf(stderr, "dendc: error: one --maximize or --minimize, found two "
                                "('%s' and '%s')\n", s->metric, v);
                return 2;
            }
            s->metric = v;
            s->direction = which == 2 ? "maximize" : "minimize";
            break;
        case 4: s->variant = v; break;
        case 5: s->seeds = v; break;
        case 6: s->epochs = v; break;
        case 7: s->out = v; break;
        case 8: s->storage = v; break;
        case 9: s->study = v; break;
        case 10: jobs = v; break;
        }
    }
    if (!s->model) {
        fprintf(stderr, "dendc: error: 'dendc search' needs a model file\n");
        usage(stderr);
        return 2;
    }
    if (!s->nparams) {
        fprintf(stderr, "dendc: error: 'dendc search' needs at least one --param "
                        "NAME=MIN..MAX\n");
        return 2;
    }
    if (!s->metric) {
        fprintf(stderr, "dendc: error: 'dendc search' needs --maximize METRIC or --minimize "
                        "METRIC (e.g. --maximize accuracy)\n");
        return 2;
    }
    if (!trials) {
        fprintf(stderr, "dendc: error: 'dendc search' needs --trials N\n");
        return 2;
    }
    if (driver_parse_bounded(trials, 1, MAX_TRIALS, &s->trials) < 0) {
        fprintf(stderr, "dendc: error: invalid --trials '%s': expected a number of trials from 1 "
                        "to %d\n", trials, MAX_TRIALS);
        return 2;
    }
    s->jobs = 1;
    if (jobs && driver_parse_bounded(jobs, 1, MAX_JOBS, &s->jobs) < 0) {
        fprintf(stderr, "dendc: error: invalid --jobs '%s': expected a number of processes from "
                        "1 to %d\n", jobs, MAX_JOBS);
        return 2;
    }
    unsigned long long e;
    if (s->epochs && driver_parse_bounded(s->epochs, 1, INT64_MAX, &e) < 0) {
        fprintf(stderr, "dendc: error: invalid --epochs '%s': expected a number of epochs >= 1\n",
                s->epochs);
        return 2;
    }
    if (s->seeds && parse_seeds(s->seeds) < 0) {
        fprintf(stderr, "dendc: error: invalid --seeds '%s': expected N or A..B with "
                        "0 <= A <= B, at most %d seeds\n", s->seeds, MAX_SEEDS);
        return 2;
    }
    /* A searched param set after '--' as well would be two values for one
     * name: which one ran would depend on the order of the options. */
    for (int i = 0; i < s->nargs; i++) {
        const char *a = s->args[i], *set = NULL;
        if (strcmp(a, "--set") == 0 && i + 1 < s->nargs)
            set = s->args[i + 1];
        else if (strncmp(a, "--set=", 6) == 0)
            set = a + 6;
        for (int k = 0; set && k < s->nparams; k++) {
            size_t n = strlen(s->params[k].name);
            if (strncmp(set, s->params[k].name, n) == 0 && set[n] == '=') {
                fprintf(stderr, "dendc: error: '--set %s' after '--' sets a param that is "
                                "searched (--param %s)\n", set, s->params[k].spec);
                return 2;
            }
        }
    }
    struct stat st;
    if (stat(s->model, &st) != 0) {
        fprintf(stderr, "dendc: error: cannot open '%s': %s\n", s->model, strerror(errno));
        return 2;
    }
    if (S_ISDIR(st.st_mode)) {
        fprintf(stderr, "dendc: error: '%s' is a directory, not a model file\n", s->model);
        return 2;
    }
    return -1;
}

/* Run argv (argv[0] a path) with stdin from /dev/null; with `out`, its
 * stdout is read into *out (arena).  Returns the exit status, 128 + N for
 * a signal, or -1 after a message when it could not start. */
static int run(Search *s, const char *path, char **argv, char **out)
{
    int fd[2] = { -1, -1 };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (out) {
        if (pipe(fd) < 0) {
            fprintf(stderr, "dendc: error: cannot make a pipe: %s\n", strerror(errno));
            posix_spawn_file_actions_destroy(&fa);
            return -1;
        }
        posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&fa, fd[0]);
        posix_spawn_file_actions_addclose(&fa, fd[1]);
    }
    pid_t pid;
    fflush(NULL);
    int rc = strchr(path, '/') ? posix_spawn(&pid, path, &fa, NULL, argv, environ)
                               : posix_spawnp(&pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (out)
        close(fd[1]);
    if (rc != 0) {
        fprintf(stderr, "dendc: error: cannot run '%s': %s\n", path, strerror(rc));
        if (out)
            close(fd[0]);
        return -1;
    }
    if (out) {
        size_t len = 0, cap = 4096;
        char *buf = mem_alloc(cap);
        ssize_t n;
        while ((n = read(fd[0], buf + len, cap - len - 1)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                break;
            len += (size_t)n;
            if (cap - len < 2)
                buf = mem_realloc(buf, cap *= 2);
        }
        close(fd[0]);
        buf[len] = 0;
        *out = arena_strdup(&s->arena, buf);
        mem_free(buf);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The compiled model's answer to OPTION (--list-params or --list-metrics),
 * for the variant and MODEL-ARGS.  NULL after a message. */
static char *ask_model(Search *s, const char *option)
{
    char **argv = arena_alloc(&s->arena, (size_t)(s->nargs + 5) * sizeof *argv);
    int argc = 0;
    argv[argc++] = (char *)s->name;
    if (s->variant) {
        argv[argc++] = "--variant";
        argv[argc++] = (char *)s->variant;
    }
    for (int i = 0; i < s->nargs; i++)
        argv[argc++] = s->args[i];
    argv[argc++] = (char *)option;
    argv[argc] = NULL;
    char *out = NULL;
    int rc = run(s, s->tmpexe, argv, &out);
    if (rc != 0) {
        if (rc > 0)
            fprintf(stderr, "dendc: error: the compiled model refused %s%s (its message is "
                            "above)\n", s->variant ? "the variant or " : "",
                    s->nargs ? "the MODEL-ARGS after '--'" : "its options");
        return NULL;
    }
    return out;
}

/* The first word of each line of `text`, in place. */
static int words(Search *s, char *text, char ***first, char ***rest)
{
    int n = 0, cap = 16;
    *first = arena_alloc(&s->arena, (size_t)cap * sizeof **first);
    *rest = arena_alloc(&s->arena, (size_t)cap * sizeof **rest);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (n == cap) {
            char **f = arena_alloc(&s->arena, (size_t)cap * 2 * sizeof *f);
            char **r = arena_alloc(&s->arena, (size_t)cap * 2 * sizeof *r);
            memcpy(f, *first, (size_t)cap * sizeof *f);
            memcpy(r, *rest, (size_t)cap * sizeof *r);
            *first = f;
            *rest = r;
            cap *= 2;
        }
        char *sp = strchr(line, ' ');
        if (sp)
            *sp++ = 0;
        (*first)[n] = line;
        (*rest)[n++] = sp ? sp : "";
    }
    return n;
}

/* Every searched param and the metric against what the model has: an
 * unknown name is said with the likely one.  0, or an exit status. */
static int check_names(Search *s)
{
    char *text = ask_model(s, "--list-params"), **names, **values;
    if (!text)
        return 2;
    int n = words(s, text, &names, &values);
    for (int k = 0; k < s->nparams; k++) {
        Param *p = &s->params[k];
        for (int i = 0; i < n && !p->value; i++)
            if (strcmp(names[i], p->name) == 0) {
                /* "VALUE" or "VALUE derived" */
                values[i][strcspn(values[i], " ")] = 0;
                p->value = values[i];
            }
        if (!p->value) {
            const char *near = diag_closest(p->name, (const char *const *)names, n);
            fprintf(stderr, "dendc: error: --param '%s': %s has no param '%s'", p->spec,
                    s->model, p->name);
            if (near)
                fprintf(stderr, " (did you mean '%s'?)", near);
            fprintf(stderr, "; './%s --help' lists them\n", s->name);
            return 2;
        }
    }
    if (!(text = ask_model(s, "--list-metrics")))
        return 2;
    char **metrics, **sets;
    n = words(s, text, &metrics, &sets);
    for (int i = 0; i < n; i++)
        if (strcmp(metrics[i], s->metric) == 0)
            return 0;
    const char *near = diag_closest(s->metric, (const char *const *)metrics, n);
    fprintf(stderr, "dendc: error: --%s '%s': %s has no such metric", s->direction, s->metric,
            s->model);
    if (near)
        fprintf(stderr, " (did you mean '%s'?)", near);
    fprintf(stderr, "; its metrics are:");
    for (int i = 0; i < n; i++)
        fprintf(stderr, " %s", metrics[i]);
    if (!n)
        fprintf(stderr, " none (the experiment evaluates nothing)");
    fputc('\n', stderr);
    return 2;
}

/* from -> to, by rename, or by copying where they are on two file systems
 * (the temporary directory is usually elsewhere).  0, or -1 with errno. */
static int move_file(const char *from, const char *to)
{
    if (rename(from, to) == 0)
        return 0;
    if (errno != EXDEV)
        return -1;
    int in = open(from, O_RDONLY), out = -1, ok = 0;
    const char *tmp = NULL;
    char tmpbuf[4096];
    if (in < 0)
        return -1;
    snprintf(tmpbuf, sizeof tmpbuf, "%s.tmp", to);
    tmp = tmpbuf;
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (out >= 0) {
        char buf[65536];
        ssize_t n;
        ok = 1;
        while (ok && (n = read(in, buf, sizeof buf)) != 0) {
            if (n < 0) {
                ok = errno == EINTR;
                continue;
            }
            for (ssize_t off = 0; ok && off < n;) {
                ssize_t w = write(out, buf + off, (size_t)(n - off));
                if (w < 0)
                    ok = errno == EINTR;
                else
                    off += w;
            }
        }
        ok = close(out) == 0 && ok && rename(tmp, to) == 0;
        if (!ok) {
            int e = errno;
            unlink(tmp);
            errno = e;
        }
    }
    close(in);
    if (ok)
        unlink(from);
    return ok ? 0 : -1;
}

static void remove_tmp(Search *s)
{
    if (s->tmpexe)
        unlink(s->tmpexe);
    if (s->tmpdir)
        rmdir(s->tmpdir);
    s->tmpexe = s->tmpdir = NULL;
}

/* Ctrl-C, SIGTERM and SIGHUP while the temporary directory exists: noted
 * here, and taken once it is removed (release_signals).  A handler rather
 * than a blocked mask: a mask is per thread, and libraries (OpenBLAS)
 * start threads of their own that would take the signal and end the
 * process at once.  A child run meanwhile (the linker, the model asked
 * for its params) starts with the default actions, as exec resets them. */
static const int held_signals[3] = { SIGINT, SIGTERM, SIGHUP };
static volatile sig_atomic_t held_signal;

static void hold_signal(int sig)
{
    held_signal = sig;
}

static void hold_signals(Search *s)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = hold_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int k = 0; k < 3; k++)
        sigaction(held_signals[k], &sa, &s->old_actions[k]);
    s->holding = 1;
}

/* Back to the actions before hold_signals; a signal that came meanwhile
 * is taken now (by default it ends the process, with nothing left). */
static void release_signals(Search *s)
{
    if (!s->holding)
        return;
    for (int k = 0; k < 3; k++)
        sigaction(held_signals[k], &s->old_actions[k], NULL);
    s->holding = 0;
    if (held_signal)
        raise(held_signal);
}

/* x in as few digits as read back the same: 0.1, not 0.10000000000000001. */
static const char *number(Search *s, double x)
{
    const char *t = arena_printf(&s->arena, "%.15g", x);
    return strtod(t, NULL) == x ? t : arena_printf(&s->arena, "%.17g", x);
}

/* The script's command line: the checked arguments, normalised. */
static char **script_argv(Search *s, const char *python, const char *script, const char *exe)
{
    char **argv = arena_alloc(&s->arena, (size_t)(s->nargs + 4 * s->nparams + 40) * sizeof *argv);
    int argc = 0;
#define ARG(x) (argv[argc++] = (char *)(x))
    ARG(python);
    ARG(script);
    ARG("--exe"); ARG(exe);
    ARG("--out"); ARG(s->out);
    ARG("--storage"); ARG(s->storage);
    ARG("--study"); ARG(s->study);
    ARG("--trials"); ARG(arena_printf(&s->arena, "%llu", s->trials));
    ARG("--jobs"); ARG(arena_printf(&s->arena, "%llu", s->jobs));
    ARG("--direction"); ARG(s->direction);
    ARG("--metric"); ARG(s->metric);
    for (int k = 0; k < s->nparams; k++) {
        const Param *p = &s->params[k];
        ARG("--param");
        if (p->kind == PARAM_INT)
            ARG(arena_printf(&s->arena, "%s:int:%lld:%lld", p->name, (long long)p->lo,
                             (long long)p->hi));
        else
            ARG(arena_printf(&s->arena, "%s:%s:%s:%s", p->name, kind_names[p->kind],
                             number(s, p->lo), number(s, p->hi)));
        ARG("--default");
        ARG(arena_printf(&s->arena, "%s=%s", p->name, p->value));
    }
    if (s->seeds) { ARG("--seeds"); ARG(s->seeds); }
    if (s->epochs) { ARG("--epochs"); ARG(s->epochs); }
    if (s->variant) { ARG("--variant"); ARG(s->variant); }
    if (s->quiet)
        ARG("--quiet");
    ARG("--");
    for (int i = 0; i < s->nargs; i++)
        ARG(s->args[i]);
#undef ARG
    argv[argc] = NULL;
    return argv;
}

int search_main(int argc, char **argv)
{
    Search s;
    memset(&s, 0, sizeof s);
    arena_init(&s.arena);
    rt_set_prog_name("dendc");
    int status = parse_args(&s, argc, argv);
    if (status >= 0)
        goto out;
    status = 1;

    /* The model's name: its file's without .dend, as dendc names the
     * executable. */
    const char *base = strrchr(s.model, '/');
    base = base ? base + 1 : s.model;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".dend") == 0)
        len -= 5;
    s.name = len ? arena_strndup(&s.arena, base, len) : "model";
    if (!s.study)
        s.study = s.variant ? arena_printf(&s.arena, "%s-%s", s.name, s.variant) : s.name;

    /* Optuna before anything is compiled or written. */
    const char *python = getenv("DENDC_PYTHON");
    if (!python || !*python)
        python = DENDC_PYTHON;
    static const char *const rel[] = { "../tools", "../share/dendc/tools", NULL };
    const char *script = arena_printf(&s.arena, "%s/dendc_search.py",
                                      driver_find_resource(&s.arena, "DENDC_TOOLS", rel,
                                                           DENDC_TOOLS_DIR));
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "dendc: error: cannot read the search script '%s': %s (set DENDC_TOOLS "
                        "to its directory)\n", script, strerror(errno));
        goto out;
    }
    char *probe[] = { (char *)python, (char *)script, "--probe", NULL };
    if (run(&s, python, probe, NULL) != 0)
        goto out;           /* the script (or run) said why */

    /* Compiled and asked in a directory of its own, so that a refused
     * param leaves nothing behind.  Ctrl-C (or SIGTERM, SIGHUP) waits while
     * the directory exists: the signal is taken once it is removed, at
     * `out` or before the script starts, so an interrupted search leaves
     * no temporary directory either.  (Compiling takes about a second.)
     * The linker's own temporaries are its to remove. */
    hold_signals(&s);
    const char *tmp = getenv("TMPDIR");
    char *dir = arena_printf(&s.arena, "%s/dendc-search.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "dendc: error: cannot create a temporary directory '%s': %s\n", dir,
                strerror(errno));
        goto out;
    }
    s.tmpdir = dir;
    s.tmpexe = arena_printf(&s.arena, "%s/%s.bin", dir, s.name);
    char **variants = NULL;
    int nvariants = 0;
    if (driver_compile(s.model, s.tmpexe, &variants, &nvariants) != 0) {
        s.tmpexe = NULL;        /* emit writes nothing on failure */
        goto out;
    }
    for (int v = 0; v < nvariants; v++)
        mem_free(variants[v]);
    mem_free(variants);
    if ((status = check_names(&s)) != 0)
        goto out;

    status = 1;
    if (rt_mkdir_p(s.out) < 0) {
        fprintf(stderr, "dendc: error: cannot create output directory '%s': %s\n", s.out,
                strerror(errno));
        goto out;
    }
    const char *exe = arena_printf(&s.arena, "%s/%s.bin", s.out, s.name);
    if (move_file(s.tmpexe, exe) < 0) {
        fprintf(stderr, "dendc: error: cannot write '%s': %s\n", exe, strerror(errno));
        goto out;
    }
    s.tmpexe = NULL;
    remove_tmp(&s);
    release_signals(&s);
    /* The script runs the executable from wherever: an absolute path. */
    char *abs_out = realpath(s.out, NULL);
    if (!abs_out) {
        fprintf(stderr, "dendc: error: cannot resolve '%s': %s\n", s.out, strerror(errno));
        goto out;
    }
    s.out = arena_strdup(&s.arena, abs_out);
    free(abs_out);
    exe = arena_printf(&s.arena, "%s/%s.bin", s.out, s.name);
    if (!s.storage)
        s.storage = arena_printf(&s.arena, "sqlite:///%s/study.db", s.out);

    char **sargv = script_argv(&s, python, script, exe);
    fflush(NULL);
    execvp(python, sargv);
    fprintf(stderr, "dendc: error: cannot run '%s': %s\n", python, strerror(errno));
out:
    remove_tmp(&s);
    release_signals(&s);
    arena_free(&s.arena);
    return status;
}
