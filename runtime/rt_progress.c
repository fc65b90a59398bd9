/* rt_progress.c: the progress line on the terminal (epoch, the last metric,
 * steps per second, ETA), redrawn in place, and the rate and duration
 * formats it uses.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>         /* _GNU_SOURCE, from AC_USE_SYSTEM_EXTENSIONS */
#endif
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rt_internal.h"

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
