/* rt_mpi.c: a table of runs spread over the ranks of an MPI job.
 *
 * rt_variants.c runs a table (--seeds, --compare, --sweep) as a list of
 * runs; under `mpirun -n N` rank r runs runs r, r+N, r+2N, ... (every run
 * is a function of its options alone, so which rank ran it changes no
 * byte), and rank 0 gathers each run's final metrics and writes the table.
 * Everything that touches MPI is here, behind functions that do the
 * one-process thing when MPI is off: built without Open MPI (configure
 * --without-mpi, or none found), or not started by mpirun.  A process not
 * started by mpirun never calls MPI_Init, so it behaves exactly as a build
 * without MPI.
 *
 * Collective calls (every rank makes them, in the same order):
 * rt_mpi_same, rt_mpi_max, rt_mpi_gather.  Messages about the table as a
 * whole are rank 0's; each rank reports the runs it ran.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_MPI
#include <mpi.h>
#endif

#include "rt_internal.h"

/* The number of processes mpirun (or a PMI launcher such as srun) started,
 * read from the environment it gives them: 0 when not started that way, -1
 * when started so but the number is not said. */
static int launched_size(void)
{
    const char *s = getenv("OMPI_COMM_WORLD_SIZE");
    if (!s)
        s = getenv("PMI_SIZE");
    if (s)
        return atoi(s) > 0 ? atoi(s) : -1;
    return getenv("PMIX_RANK") || getenv("PMI_RANK") ? -1 : 0;
}

int rt_mpi_start(RtMpi *m, const char *prog, int jit)
{
    int n = launched_size();
    memset(m, 0, sizeof *m);
    m->size = 1;
    if (n == 0)
        return 0;
    if (jit) {
        /* Said by every rank: MPI is not started, so nothing orders the
         * ranks, and mpirun may end rank 0 before it speaks. */
        fprintf(stderr, "%s: dendc run does not run under mpirun: compile the model "
                "(dendc MODEL.dend) and run 'mpirun -n N ./MODEL ...'\n", prog);
        return 2;
    }
#ifdef HAVE_MPI
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        fprintf(stderr, "%s: MPI_Init failed\n", prog);
        return 1;
    }
    m->on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &m->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m->size);
    return 0;
#else
    if (n == 1)
        return 0;
    fprintf(stderr, "%s: started by mpirun, but the runtime was built without MPI (configure "
            "--without-mpi, or no Open MPI found): every process would run the whole table; "
            "run it without mpirun, or rebuild dendc with Open MPI (libopenmpi-dev)\n", prog);
    return 2;
#endif
}

void rt_mpi_end(RtMpi *m)
{
#ifdef HAVE_MPI
    if (m->on) {
        fflush(NULL);
        MPI_Finalize();
    }
#endif
    m->on = 0;
}

/* FNV-1a 64 over n bytes, continuing from h. */
static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

uint64_t rt_exe_hash(void)
{
    FILE *f = fopen("/proc/self/exe", "rb");
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    unsigned char buf[65536];
    size_t n;
    if (!f)
        return 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        h = fnv_bytes(h, buf, n);
    fclose(f);
    return h;
}

int rt_mpi_same(const RtMpi *m, const char *prog, uint64_t exe_hash, int argc, char **argv)
{
#ifdef HAVE_MPI
    if (!m->on || m->size < 2)
        return 0;
    /* argv[0] is left out: the same binary may be reached by another path. */
    uint64_t args = UINT64_C(0xcbf29ce484222325), mine[2], root[2];
    for (int i = 1; i < argc; i++)
        args = fnv_bytes(args, argv[i], strlen(argv[i]) + 1);
    mine[0] = root[0] = exe_hash;
    mine[1] = root[1] = args;
    MPI_Bcast(root, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    int bad = (mine[0] != root[0]) | (mine[1] != root[1]) << 1;
    int *all = m->rank == 0 ? rt_xcalloc((size_t)m->size, sizeof *all) : NULL;
    MPI_Gather(&bad, 1, MPI_INT, all, 1, MPI_INT, 0, MPI_COMM_WORLD);
    int any = 0;
    for (int r = 1; m->rank == 0 && r < m->size; r++) {
        if (!all[r])
            continue;
        if (!any++)
            fprintf(stderr, "%s: every rank must run the same executable with the same "
                    "arguments, but:\n", prog);
        fprintf(stderr, "%s:   rank %d runs %s than rank 0\n", prog, r,
                all[r] == 3 ? "another executable with other arguments"
                : all[r] == 1 ? "another executable" : "other arguments");
    }
    free(all);
    MPI_Bcast(&any, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return any ? 2 : 0;
#else
    return 0;
#endif
}

#ifdef HAVE_MPI
/* Wait for the requests, sleeping between tests: a rank that is done waits
 * for the others without spinning on a core they need (Open MPI's own
 * waits poll). */
static int wait_all(MPI_Request *reqs, int n)
{
    struct timespec nap = { 0, 2000000 };     /* 2 ms */
    for (;;) {
        int done = 0;
        if (MPI_Testall(n, reqs, &done, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
            return -1;
        if (done)
            return 0;
        nanosleep(&nap, NULL);
    }
}
#endif

int rt_mpi_max(const RtMpi *m, int status)
{
#ifdef HAVE_MPI
    int all = status;
    MPI_Request req;
    if (m->on && m->size > 1
        && (MPI_Iallreduce(&status, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &req) != MPI_SUCCESS
            || wait_all(&req, 1) < 0))
        return status ? status : 1;
    return all;
#else
    return status;
#endif
}

int rt_mpi_gather(const RtMpi *m, void *recs, size_t size, int n)
{
#ifdef HAVE_MPI
    if (!m->on || m->size < 2)
        return 0;
    /* Rank r's records are r, r+N, ...: sent packed, unpacked by rank 0. */
    int per = (n + m->size - 1) / m->size;
    size_t stride = (size_t)(per > 0 ? per : 1) * size;
    char *pack = rt_xmalloc(m->rank == 0 ? stride * (size_t)m->size : stride);
    MPI_Request *reqs = rt_xcalloc((size_t)m->size, sizeof *reqs);
    int nreq = 0, rc = 0;
    if (m->rank != 0) {
        int k = 0;
        for (int j = m->rank; j < n; j += m->size)
            memcpy(pack + (size_t)k++ * size, (char *)recs + (size_t)j * size, size);
        if (k > 0 && MPI_Isend(pack, (int)((size_t)k * size), MPI_BYTE, 0, 1, MPI_COMM_WORLD,
                               &reqs[nreq++]) != MPI_SUCCESS)
            rc = -1;
    } else {
        for (int r = 1; r < m->size && r < n && rc == 0; r++) {
            int k = 0;
            for (int j = r; j < n; j += m->size)
                k++;
            if (MPI_Irecv(pack + (size_t)r * stride, (int)((size_t)k * size), MPI_BYTE, r, 1,
                          MPI_COMM_WORLD, &reqs[nreq++]) != MPI_SUCCESS)
                rc = -1;
        }
    }
    if (rc == 0 && nreq > 0 && wait_all(reqs, nreq) < 0)
        rc = -1;
    for (int r = 1; m->rank == 0 && rc == 0 && r < m->size; r++) {
        int k = 0;
        for (int j = r; j < n; j += m->size)
            memcpy((char *)recs + (size_t)j * size, pack + (size_t)r * stride + (size_t)k++ * size, size);
    }
    free(reqs);
    free(pack);
    return rc;
#else
    return 0;
#endif
}
