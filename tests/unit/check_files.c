/* check_files.c: unit tests of the data-file readers (rt_files.c: IDX,
 * gzip-compressed or plain, and CSV) and of the data sets made from them
 * (rt_data.c): images kept as bytes and presented divided by 255, files
 * read once and shared between the runs of a process, every fault named.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "rt_internal.h"

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_files.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *tmp_path(const char *name)
{
    return rt_path_join(tmpdir, name);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_gz(const char *path, const void *data, size_t n)
{
    gzFile gz = gzopen(path, "wb");
    ck_assert_ptr_nonnull(gz);
    ck_assert_int_eq(gzwrite(gz, data, (unsigned)n), (int)n);
    ck_assert_int_eq(gzclose(gz), Z_OK);
}

/* An IDX file of unsigned bytes: the header for dims, then count bytes of
 * data (i * 7 + 3 mod 256, or labels i mod 10); returns its length. */
static size_t make_idx(unsigned char *buf, int ndim, const uint32_t *dims, int labels)
{
    size_t at = 0, count = 1;
    buf[at++] = 0;
    buf[at++] = 0;
    buf[at++] = 0x08;
    buf[at++] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++) {
        buf[at++] = (unsigned char)(dims[i] >> 24);
        buf[at++] = (unsigned char)(dims[i] >> 16);
        buf[at++] = (unsigned char)(dims[i] >> 8);
        buf[at++] = (unsigned char)dims[i];
        count *= dims[i];
    }
    for (size_t i = 0; i < count; i++)
        buf[at++] = (unsigned char)(labels ? i % 10 : (i * 7 + 3) % 256);
    return at;
}

static void expect_idx_error(const char *path, const char *want)
{
    RtIdxInfo h;
    char why[256];
    ck_assert_int_eq(rt_idx_info(path, &h, why, sizeof why), -1);
    ck_assert_msg(strstr(why, want) != NULL, "%s: got '%s', want '%s'", path, why, want);
}

START_TEST(test_idx_read)
{
    make_tmpdir();
    unsigned char buf[4096];
    uint32_t dims[3] = { 5, 3, 4 };
    size_t len = make_idx(buf, 3, dims, 0);
    char *plain = tmp_path("img"), *gz = tmp_path("img.gz");
    write_file(plain, buf, len);
    write_gz(gz, buf, len);
    for (int k = 0; k < 2; k++) {
        RtIdxInfo h;
        uint8_t *data;
        char why[256];
        const char *p = k ? gz : plain;
        ck_assert_msg(rt_idx_info(p, &h, why, sizeof why) == 0, "%s", why);
        ck_assert_int_eq(h.ndim, 3);
        ck_assert(h.count == 5 && h.width == 12 && h.dims[1] == 3 && h.dims[2] == 4);
        ck_assert_int_eq(h.gzip, k);
        /* The first 2 items, and the whole file read through. */
        ck_assert_msg(rt_idx_load(p, &h, 2, &data, why, sizeof why) == 0, "%s", why);
        ck_assert_mem_eq(data, buf + 16, 24);
        free(data);
        ck_assert_msg(rt_idx_load(p, &h, -1, &data, why, sizeof why) == 0, "%s", why);
        ck_assert_mem_eq(data, buf + 16, 60);
        free(data);
    }
    uint32_t ldims[1] = { 7 };
    len = make_idx(buf, 1, ldims, 1);
    write_gz(gz, buf, len);
    RtIdxInfo h;
    char why[256];
    ck_assert_int_eq(rt_idx_info(gz, &h, why, sizeof why), 0);
    ck_assert(h.ndim == 1 && h.count == 7 && h.width == 1);
    free(plain);
    free(gz);
    remove_tmpdir();
}
END_TEST

START_TEST(test_idx_bad)
{
    make_tmpdir();
    unsigned char buf[4096] = { 0 }, gzbuf[4096];
    uint32_t dims[3] = { 20, 4, 4 };
    size_t len = make_idx(buf, 3, dims, 0);
    char *p = tmp_path("bad");
    expect_idx_error(p, "No such file");
    write_file(p, buf, 0);
    expect_idx_error(p, "empty file, not an IDX file");
    write_file(p, buf, 3);
    expect_idx_error(p, "truncated: 3 bytes, not an IDX file");
    write_file(p, "PK\003\004rest", 8);
    expect_idx_error(p, "not an IDX file (it starts 0x504b0304");
    buf[2] = 0x0D;
    write_file(p, buf, len);
    expect_idx_error(p, "IDX type 0x0d (float); only unsigned bytes (0x08) are read");
    buf[2] = 0x08;
    buf[3] = 9;
    write_file(p, buf, len);
    expect_idx_error(p, "not an IDX file (9 dimensions");
    buf[3] = 3;
    write_file(p, buf, 10);
    expect_idx_error(p, "truncated IDX header (3 dimensions announced)");
    write_file(p, buf, len - 1);
    expect_idx_error(p, "truncated: the header announces 320 bytes of data (20 items of 16), the file has 335 bytes");
    buf[5] = 0x7f;      /* 8 million images in a small file: refused before allocating */
    write_file(p, buf, len);
    expect_idx_error(p, "the file has 336 bytes");
    buf[5] = 0;
    write_file(p, buf, len + 1);
    expect_idx_error(p, "trailing bytes after the 320 bytes of data");
    buf[7] = 0;         /* 0 images */
    write_file(p, buf, len);
    expect_idx_error(p, "dimension 0 is 0");
    buf[7] = 20;
    /* A .gz cut short, and one whose data is damaged (its CRC fails). */
    char *g = tmp_path("bad.gz");
    write_gz(g, buf, len);
    FILE *f = fopen(g, "rb");
    size_t glen = fread(gzbuf, 1, sizeof gzbuf, f);
    fclose(f);
    write_gz(g, buf, len - 1);     /* a whole gzip stream of too little data */
    expect_idx_error(g, "truncated: 319 bytes of data where the header announces 320 (20 items of 16)");
    write_gz(g, buf, len + 1);
    expect_idx_error(g, "trailing bytes after the 320 bytes of data");
    write_file(g, gzbuf, glen / 2);
    expect_idx_error(g, "truncated gzip data");
    gzbuf[glen - 6] ^= 0xff;    /* the CRC-32 of the trailer */
    write_file(g, gzbuf, glen);
    expect_idx_error(g, "damaged gzip data");
    free(p);
    free(g);
    remove_tmpdir();
}
END_TEST

START_TEST(test_csv)
{
    make_tmpdir();
    char *p = tmp_path("a.csv");
    int64_t rows, cols;
    double *v;
    char why[256];
    const char *good = "x,y,label\r\n 1.5 , -2,0\r\n3e2,4,1\n\n";
    write_file(p, good, strlen(good));
    ck_assert_msg(rt_csv_load(p, 1, &rows, &cols, &v, why, sizeof why) == 0, "%s", why);
    ck_assert(rows == 2 && cols == 3);
    ck_assert(v[0] == 1.5 && v[1] == -2 && v[3] == 300 && v[5] == 1);
    free(v);
    ck_assert_int_eq(rt_csv_load(p, 0, &rows, &cols, &v, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "line 1, column 1: 'x' is not a number (a header line? say 'header 1')"), "%s", why);
    const char *ragged = "1,2,3\n4,5\n";
    write_file(p, ragged, strlen(ragged));
    ck_assert_int_eq(rt_csv_load(p, 0, &rows, &cols, &v, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "line 2 has 2 columns, but the first row has 3"), "%s", why);
    const char *blank = "1,2\n\n3,4\n";
    write_file(p, blank, strlen(blank));
    ck_assert_int_eq(rt_csv_load(p, 0, &rows, &cols, &v, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "line 2 is blank, but rows follow it"), "%s", why);
    const char *inf = "1,inf\n";
    write_file(p, inf, strlen(inf));
    ck_assert_int_eq(rt_csv_load(p, 0, &rows, &cols, &v, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "line 1, column 2: inf is not a finite number"), "%s", why);
    write_file(p, "h\n", 2);
    ck_assert_int_eq(rt_csv_load(p, 1, &rows, &cols, &v, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "no rows after the header"), "%s", why);
    free(p);
    remove_tmpdir();
}
END_TEST

/* A descriptor with one idx data set of n samples of 16 (4x4) and 10 classes. */
static void idx_desc(RtDesc *d, const char *img, const char *lab, int n, const char *extra)
{
    char text[2048], err[256];
    snprintf(text, sizeof text,
             "dendc-model 1\nmodel m\ntitle t\nstate_size 32\nparam dt 0.1 free\nparam t_present 1 free\n"
             "buf 0 x input 16 1 0\nbuf 1 target target 10 1 16\n"
             "dataset 0 train idx %d -1 -1\ndata 0 input 16 %s\ndata 0 labels 10 %s\n%s"
             "experiment e\ntrain 0\ninput 0\ntarget 1\nonehot 1 0.1\nepochs 1\ndt_param 0\npresent_param 1\n"
             "end\n", n, img, lab, extra);
    ck_assert_msg(rt_desc_parse(d, text, err, sizeof err) == 0, "%s", err);
}

START_TEST(test_data_idx)
{
    make_tmpdir();
    unsigned char buf[4096];
    uint32_t dims[3] = { 20, 4, 4 }, ldims[1] = { 20 };
    char *img = tmp_path("img.gz"), *lab = tmp_path("lab");
    write_gz(img, buf, make_idx(buf, 3, dims, 0));
    unsigned char pixels[320];
    memcpy(pixels, buf + 16, sizeof pixels);
    write_file(lab, buf, make_idx(buf, 1, ldims, 1));
    RtDesc d;
    idx_desc(&d, img, lab, 12, "");
    RtData a, b;
    ck_assert_int_eq(rt_data_make(&a, &d, 0, NULL, NULL, NULL, 1), 0);
    /* Bytes, not doubles; presented as byte / 255, exactly. */
    ck_assert_ptr_null(a.in);
    ck_assert_ptr_nonnull(a.in8);
    ck_assert(a.n == 12 && a.din == 16 && a.dout == 10);
    double x[16];
    rt_data_input(&a, 11, x);
    for (int i = 0; i < 16; i++)
        ck_assert(x[i] == pixels[11 * 16 + i] / 255.0);
    ck_assert(a.labels[11] == 1 && a.target[11 * 10 + 1] == 1 && a.target[11 * 10 + 2] == 0.1);
    /* A second run in this process shares the file's bytes. */
    ck_assert_int_eq(rt_data_make(&b, &d, 0, NULL, NULL, NULL, 1), 0);
    ck_assert_ptr_eq(a.in8, b.in8);
    rt_data_free(&b);
    rt_data_free(&a);
    rt_desc_free(&d);
    /* data_scale: bytes times the scale instead. */
    idx_desc(&d, img, lab, 20, "data_scale 0 2\n");
    ck_assert_int_eq(rt_data_make(&a, &d, 0, NULL, NULL, NULL, 1), 0);
    rt_data_input(&a, 19, x);
    ck_assert(x[15] == pixels[319] * 2.0);
    rt_data_free(&a);
    rt_desc_free(&d);
    /* rt_data_hold reads once and keeps the bytes for later runs. */
    idx_desc(&d, img, lab, 20, "");
    int mark = rt_data_hold(&d, "check_files");
    ck_assert_int_ge(mark, 0);
    ck_assert_int_eq(rt_data_make(&a, &d, 0, NULL, NULL, NULL, 1), 0);
    const uint8_t *held = a.in8;
    rt_data_free(&a);
    remove(img);        /* gone from the disk, still in the cache */
    ck_assert_int_eq(rt_data_make(&a, &d, 0, NULL, NULL, NULL, 1), 0);
    ck_assert_ptr_eq(a.in8, held);
    rt_data_free(&a);
    rt_data_release(mark);
    ck_assert_int_eq(rt_data_make(&a, &d, 0, NULL, NULL, NULL, 1), -1);
    ck_assert_msg(strstr(a.why, "img.gz' (images): No such file"), "%s", a.why);
    rt_desc_free(&d);
    /* More samples than the file has, labels of another count. */
    write_gz(img, buf, make_idx(buf, 3, dims, 0));
    idx_desc(&d, img, lab, 21, "");
    ck_assert_int_eq(rt_data_make(&a, &d, 0, NULL, NULL, NULL, 1), -1);
    ck_assert_msg(strstr(a.why, "(images): 20 images, but the model was compiled for 21"), "%s", a.why);
    rt_desc_free(&d);
    ldims[0] = 19;
    write_file(lab, buf, make_idx(buf, 1, ldims, 1));
    idx_desc(&d, img, lab, 5, "");
    ck_assert_int_eq(rt_data_make(&a, &d, 0, NULL, NULL, NULL, 1), -1);
    ck_assert_msg(strstr(a.why, "(labels): 19 labels, but the images file"), "%s", a.why);
    rt_desc_free(&d);
    free(img);
    free(lab);
    remove_tmpdir();
}
END_TEST

START_TEST(test_data_csv)
{
    make_tmpdir();
    char *p = tmp_path("a.csv"), text[2048], err[256];
    const char *csv = "a,b,c\n2,0.5,4\n1,1.5,8\n";
    write_file(p, csv, strlen(csv));
    snprintf(text, sizeof text,
             "dendc-model 1\nmodel m\ntitle t\nstate_size 8\nparam dt 0.1 free\nparam t_present 1 free\n"
             "buf 0 x input 2 1 0\nbuf 1 target target 3 1 2\n"
             "dataset 0 train csv 2 -1 -1\ndata 0 input 2 %s\ndata 0 labels 3 %s\ndata_csv 0 1 0\n"
             "data_scale 0 0.5\n"
             "experiment e\ntrain 0\ninput 0\ntarget 1\nonehot 1 0\nepochs 1\ndt_param 0\npresent_param 1\n"
             "end\n", p, p);
    RtDesc d;
    ck_assert_msg(rt_desc_parse(&d, text, err, sizeof err) == 0, "%s", err);
    RtData a;
    ck_assert_msg(rt_data_make(&a, &d, 0, NULL, NULL, NULL, 1) == 0, "%s", a.why);
    ck_assert(a.in[0] == 0.25 && a.in[1] == 2 && a.in[2] == 0.75 && a.in[3] == 4);
    ck_assert(a.labels[0] == 2 && a.labels[1] == 1);
    rt_data_free(&a);
    rt_desc_free(&d);
    /* data_csv belongs to csv sets, and needs a labels record for a column. */
    char bad[2048];
    snprintf(bad, sizeof bad, "%s", text);
    char *at = strstr(bad, "data 0 labels");
    memmove(at, strstr(at, "data_csv"), strlen(strstr(at, "data_csv")) + 1);
    ck_assert_int_eq(rt_desc_parse(&d, bad, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "a label column goes with a 'labels' record"), "%s", err);
    free(p);
    remove_tmpdir();
}
END_TEST

Suite *files_suite(void)
{
    Suite *s = suite_create("files");
    TCase *idx = tcase_create("idx"), *csv = tcase_create("csv"), *data = tcase_create("data");
    tcase_add_test(idx, test_idx_read);
    tcase_add_test(idx, test_idx_bad);
    tcase_add_test(csv, test_csv);
    tcase_add_test(data, test_data_idx);
    tcase_add_test(data, test_data_csv);
    suite_add_tcase(s, idx);
    suite_add_tcase(s, csv);
    suite_add_tcase(s, data);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(files_suite());
    srunner_run_all(sr, CK_NORMAL);
    int run = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("%d passed, %d failed\n", run - failed, failed);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
