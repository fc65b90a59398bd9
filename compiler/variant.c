/* variant.c: phase 1b, named variants of a model.
 *
 *     variant bp { connect P2 -> P1.apical as B1 tied transpose(W2) }
 *
 * A variant is a patch: each declaration in it replaces the base model's
 * declaration of the same kind and name (a projection is named by its `as`,
 * a nudge by the population it nudges), or is added when the base has none.
 * Every variant is then checked, lowered and compiled like a model of its
 * own, so an error in a variant is reported exactly as it would be in the
 * base, and the runtime can run any of them (./model --variant bp).
 */
#include "variant.h"

#include <string.h>

/* The name a declaration is replaced by: nudges are named by what they nudge. */
static const char *key_of(const AstNode *d)
{
    return d->kind == AST_NUDGE ? d->u.nudge.pop : d->name;
}

static int patchable(AstKind k)
{
    switch (k) {
    case AST_PARAM: case AST_FN: case AST_NEURON: case AST_INPUT: case AST_POP:
    case AST_CONNECT: case AST_NUDGE: case AST_RULE: case AST_TEACHER:
        return 1;
    default:
        return 0;
    }
}

Variants *variant_split(Comp *c, AstFile *f)
{
    Variants *v = arena_alloc(&c->arena, sizeof *v);
    v->base = arena_alloc(&c->arena, sizeof *v->base);
    v->base->src = f->src;
    PtrVec decls = { 0 };
    for (int i = 0; i < f->decls.len; i++) {
        AstNode *d = f->decls.items[i];
        if (d->kind != AST_VARIANT) {
            ast_list_push(&c->arena, &v->base->decls, d);
            continue;
        }
        for (int k = 0; k < v->n; k++)
            if (((AstNode *)v->decls[k])->name == d->name) {
                diag_error(&c->diag, d->name_span, "variant '%s' is defined twice", d->name);
                diag_note(&c->diag, ((AstNode *)v->decls[k])->name_span, "the first is here");
            }
        ptrvec_push(&c->arena, &decls, d);
        v->decls = (AstNode **)decls.items;
        v->n = decls.len;
    }
    v->files = arena_alloc(&c->arena, (size_t)(v->n + 1) * sizeof *v->files);
    for (int k = 0; k < v->n; k++) {
        AstNode *var = v->decls[k];
        AstFile *pf = arena_alloc(&c->arena, sizeof *pf);
        pf->src = f->src;
        for (int i = 0; i < v->base->decls.len; i++)
            ast_list_push(&c->arena, &pf->decls, v->base->decls.items[i]);
        for (int j = 0; j < var->u.block.items.len; j++) {
            AstNode *d = var->u.block.items.items[j];
            if (!patchable(d->kind)) {
                diag_error(&c->diag, d->span, "a variant patches params, neurons, populations, projections, "
                           "nudges, functions, rules and teachers, not a%s %s",
                           d->kind == AST_IMPORT || d->kind == AST_EXPERIMENT ? "n" : "",
                           ast_kind_names[d->kind]);
                continue;
            }
            int replaced = 0;
            for (int i = 0; i < pf->decls.len && !replaced; i++) {
                AstNode *b = pf->decls.items[i];
                if (b->kind == d->kind && key_of(b) == key_of(d)) {
                    pf->decls.items[i] = d;
                    replaced = 1;
                }
            }
            if (!replaced)
                ast_list_push(&c->arena, &pf->decls, d);
        }
        v->files[k] = pf;
    }
    return v;
}
