/* test_comp.c: comp_init and comp_free for the unit tests.
 *
 * The real ones live in the driver (driver.c), which the unit tests do not
 * link; these do the same minimum so the front end can be tested alone. */
#include "dendc.h"

void comp_init(Comp *c, FILE *diag_out)
{
    arena_init(&c->arena);
    intern_init(&c->names, &c->arena);
    diag_init(&c->diag, diag_out);
    c->stdlib_dir = NULL;
    c->opt_level = 3;
}

void comp_free(Comp *c)
{
    intern_free(&c->names);
    arena_free(&c->arena);
}
