/* variant.h: named variants of a model (variant.c). */
#ifndef DENDC_VARIANT_H
#define DENDC_VARIANT_H

#include "dendc.h"

typedef struct Variants {
    AstFile *base;          /* the model without its variant blocks */
    int n;                  /* variants, in declaration order */
    AstNode **decls;        /* VARIANT nodes (names, spans) */
    AstFile **files;        /* each variant: the base with the variant's patches applied */
} Variants;

/* Split a parsed file into its base and patched variants (reports duplicate
 * variant names and declarations a variant cannot patch). */
Variants *variant_split(Comp *c, AstFile *f);

#endif
