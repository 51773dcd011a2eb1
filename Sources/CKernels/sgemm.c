// SGEMM micro-kernels with run-time selection (see brx_kernels.h).
//
// No packing: the operands are the engine's own small blocks (Winograd tiles x channels, pair rows,
// im2col rows), A rows are broadcast element by element and B rows are read as vectors straight from
// the row-major weights. A micro-kernel sums an MR x NR block of C in registers over a KC slice of k:
// AVX-512 12 x 32 (24 zmm accumulators), AVX2 6 x 16 (12 ymm). Per k step the AVX-512 kernel does 24
// FMAs for 2 vector loads of B and 12 broadcasts of A, which the L1/L2 sustain without packed copies.
// Row tails get exact-size kernels (one instantiation per row count), column tails masked loads/stores.
#include "brx_kernels.h"

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#define BRX_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

// k slice per pass over C. Each slice is summed from zero in registers and then added to C (blocked
// summation, as BLAS kernels do): a single running sum over K = 2700 products erred by 1.8e-4, twice
// the kernel tests' bound. 12 rows x 128 of A (6 KiB) stay in L1 across the column panels.
#define BRX_KC 128

static inline int imin(int a, int b) { return a < b ? a : b; }

// ---------------------------------------------------------------------------------------------
// CPU features.

#ifdef BRX_X86
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

static int detect_isa(void) {
#ifdef BRX_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return BRX_ISA_GENERIC;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return BRX_ISA_GENERIC;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return BRX_ISA_GENERIC;          // OS saves XMM and YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return BRX_ISA_GENERIC;
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (avx512f && fma && (xcr0 & 0xE6) == 0xE6) return BRX_ISA_AVX512;  // and opmask + ZMM state
    if (avx2 && fma) return BRX_ISA_AVX2;
#endif
    return BRX_ISA_GENERIC;
}

static int g_detected = -1, g_active = -1;

int brx_isa_detected(void) {
    int d = __atomic_load_n(&g_detected, __ATOMIC_RELAXED);
    if (d < 0) {
        d = detect_isa();
        __atomic_store_n(&g_detected, d, __ATOMIC_RELAXED);
    }
    return d;
}

int brx_isa_active(void) {
    int a = __atomic_load_n(&g_active, __ATOMIC_RELAXED);
    if (a < 0) {
        a = brx_isa_detected();
        __atomic_store_n(&g_active, a, __ATOMIC_RELAXED);
    }
    return a;
}

int brx_isa_select(int isa) {
    int d = brx_isa_detected();
    int a = isa < BRX_ISA_GENERIC ? BRX_ISA_GENERIC : isa > d ? d : isa;
    __atomic_store_n(&g_active, a, __ATOMIC_RELAXED);
    return a;
}

const char *brx_isa_name(int isa) {
    switch (isa) {
    case BRX_ISA_AVX512: return "avx512";
    case BRX_ISA_AVX2: return "avx2";
    default: return "generic";
    }
}

// ---------------------------------------------------------------------------------------------
// Portable kernel, summed like the vector kernels: k in slices of BRX_KC, each slice from zero, then
// added to C.

static void sgemm_generic(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                          int accumulate) {
    float sum[256];
    for (int i = 0; i < m; i++) {
        float *ci = c + (ptrdiff_t)i * ldc;
        const float *ai = a + (ptrdiff_t)i * lda;
        for (int j0 = 0; j0 < n; j0 += 256) {
            int w = imin(256, n - j0);
            for (int p0 = 0; p0 < k; p0 += BRX_KC) {
                int kc = imin(BRX_KC, k - p0);
                for (int j = 0; j < w; j++) sum[j] = 0;
                for (int p = p0; p < p0 + kc; p++) {
                    float x = ai[p];
                    const float *bp = b + (ptrdiff_t)p * ldb + j0;
                    for (int j = 0; j < w; j++) sum[j] += x * bp[j];
                }
                if (accumulate || p0 > 0)
                    for (int j = 0; j < w; j++) ci[j0 + j] += sum[j];
                else
                    for (int j = 0; j < w; j++) ci[j0 + j] = sum[j];
            }
        }
    }
}

#ifdef BRX_X86
// ---------------------------------------------------------------------------------------------
// AVX-512F: MR = 12 rows, NR = 32 columns (2 zmm), masked last vector.

#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)

#define MR512 12

static inline __attribute__((always_inline)) void
kern512(const int mr, const int nv, int kc, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
        int loadc, __mmask16 mask) {
    __m512 acc[MR512][2];
    const float *ar[MR512];
    for (int i = 0; i < mr; i++) {
        ar[i] = a + (ptrdiff_t)i * lda;
        float *cr = c + (ptrdiff_t)i * ldc;
        (void)cr;
        acc[i][0] = _mm512_setzero_ps();
        acc[i][1] = _mm512_setzero_ps();
    }
    for (int p = 0; p < kc; p++) {
        const float *bp = b + (ptrdiff_t)p * ldb;
        __m512 b0, b1 = _mm512_setzero_ps();
        if (nv == 2) {
            b0 = _mm512_loadu_ps(bp);
            b1 = _mm512_maskz_loadu_ps(mask, bp + 16);
        } else {
            b0 = _mm512_maskz_loadu_ps(mask, bp);
        }
        for (int i = 0; i < mr; i++) {
            __m512 x = _mm512_set1_ps(ar[i][p]);
            acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);
            if (nv == 2) acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < mr; i++) {
        float *cr = c + (ptrdiff_t)i * ldc;
        if (loadc) {
            if (nv == 2) {
                acc[i][0] = _mm512_add_ps(_mm512_loadu_ps(cr), acc[i][0]);
                acc[i][1] = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, cr + 16), acc[i][1]);
            } else {
                acc[i][0] = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, cr), acc[i][0]);
            }
        }
        if (nv == 2) {
            _mm512_storeu_ps(cr, acc[i][0]);
            _mm512_mask_storeu_ps(cr + 16, mask, acc[i][1]);
        } else {
            _mm512_mask_storeu_ps(cr, mask, acc[i][0]);
        }
    }
}

#define BRX_CASE512(R)                                                                                               \
    case R:                                                                                                          \
        if (nv == 2) kern512(R, 2, kc, a, lda, b, ldb, c, ldc, loadc, mask);                                         \
        else kern512(R, 1, kc, a, lda, b, ldb, c, ldc, loadc, mask);                                                 \
        break;

static void block512(int mr, int nv, int kc, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                     int loadc, __mmask16 mask) {
    switch (mr) {
        BRX_CASE512(1) BRX_CASE512(2) BRX_CASE512(3) BRX_CASE512(4) BRX_CASE512(5) BRX_CASE512(6)
        BRX_CASE512(7) BRX_CASE512(8) BRX_CASE512(9) BRX_CASE512(10) BRX_CASE512(11) BRX_CASE512(12)
    }
}

// Large B (over 1 MiB, e.g. 1024^3 or an im2col with K = 4608): B's rows are far apart and A's row
// blocks are many, so a KC x 32 panel of B is copied once into a contiguous buffer and reused by every
// row block (1024^3: 87 instead of 79 GFLOP/s; the engine's small blocks are faster unpacked).
static void sgemm_avx512_packed(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
                                int ldc, int accumulate) {
    float panel[BRX_KC * 32] __attribute__((aligned(64)));
    for (int p0 = 0; p0 < k; p0 += BRX_KC) {
        int kc = imin(BRX_KC, k - p0), loadc = accumulate || p0 > 0;
        for (int j0 = 0; j0 < n; j0 += 32) {
            int w = imin(32, n - j0), nv = (w + 15) / 16, last = w - 16 * (nv - 1);
            __mmask16 mask = (__mmask16)(last == 16 ? 0xFFFF : (1u << last) - 1);
            const float *bs = b + (ptrdiff_t)p0 * ldb + j0;
            for (int p = 0; p < kc; p++) {
                const float *src = bs + (ptrdiff_t)p * ldb;
                if (nv == 2) {
                    _mm512_store_ps(panel + 32 * p, _mm512_loadu_ps(src));
                    _mm512_store_ps(panel + 32 * p + 16, _mm512_maskz_loadu_ps(mask, src + 16));
                } else {
                    _mm512_store_ps(panel + 32 * p, _mm512_maskz_loadu_ps(mask, src));
                }
            }
            for (int i0 = 0; i0 < m; i0 += MR512) {
                block512(imin(MR512, m - i0), nv, kc, a + (ptrdiff_t)i0 * lda + p0, lda, panel, 32,
                         c + (ptrdiff_t)i0 * ldc + j0, ldc, loadc, mask);
            }
        }
    }
}

static void sgemm_avx512(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                         int accumulate) {
    if ((size_t)k * (size_t)n > (1u << 18) && m >= 2 * MR512) {
        sgemm_avx512_packed(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        return;
    }
    for (int p0 = 0; p0 < k; p0 += BRX_KC) {
        int kc = imin(BRX_KC, k - p0), loadc = accumulate || p0 > 0;
        for (int i0 = 0; i0 < m; i0 += MR512) {
            int mr = imin(MR512, m - i0);
            for (int j0 = 0; j0 < n; j0 += 32) {
                int w = imin(32, n - j0), nv = (w + 15) / 16, last = w - 16 * (nv - 1);
                __mmask16 mask = (__mmask16)(last == 16 ? 0xFFFF : (1u << last) - 1);
                block512(mr, nv, kc, a + (ptrdiff_t)i0 * lda + p0, lda, b + (ptrdiff_t)p0 * ldb + j0, ldb,
                         c + (ptrdiff_t)i0 * ldc + j0, ldc, loadc, mask);
            }
        }
    }
}

#pragma clang attribute pop

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA: MR = 6 rows, NR = 16 columns (2 ymm), masked last vector.

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

#define MR256 6

static inline __attribute__((always_inline)) __m256 load256(const float *p, __m256i mask, int full) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}
static inline __attribute__((always_inline)) void store256(float *p, __m256 x, __m256i mask, int full) {
    if (full) _mm256_storeu_ps(p, x);
    else _mm256_maskstore_ps(p, mask, x);
}

static inline __attribute__((always_inline)) void
kern256(const int mr, const int nv, const int full, int kc, const float *a, int lda, const float *b, int ldb,
        float *c, int ldc, int loadc, __m256i mask) {
    __m256 acc[MR256][2];
    const float *ar[MR256];
    for (int i = 0; i < mr; i++) {
        ar[i] = a + (ptrdiff_t)i * lda;
        float *cr = c + (ptrdiff_t)i * ldc;
        (void)cr;
        acc[i][0] = _mm256_setzero_ps();
        acc[i][1] = _mm256_setzero_ps();
    }
    for (int p = 0; p < kc; p++) {
        const float *bp = b + (ptrdiff_t)p * ldb;
        __m256 b0, b1 = _mm256_setzero_ps();
        if (nv == 2) {
            b0 = _mm256_loadu_ps(bp);
            b1 = load256(bp + 8, mask, full);
        } else {
            b0 = load256(bp, mask, full);
        }
        for (int i = 0; i < mr; i++) {
            __m256 x = _mm256_broadcast_ss(ar[i] + p);
            acc[i][0] = _mm256_fmadd_ps(x, b0, acc[i][0]);
            if (nv == 2) acc[i][1] = _mm256_fmadd_ps(x, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < mr; i++) {
        float *cr = c + (ptrdiff_t)i * ldc;
        if (loadc) {
            if (nv == 2) {
                acc[i][0] = _mm256_add_ps(_mm256_loadu_ps(cr), acc[i][0]);
                acc[i][1] = _mm256_add_ps(load256(cr + 8, mask, full), acc[i][1]);
            } else {
                acc[i][0] = _mm256_add_ps(load256(cr, mask, full), acc[i][0]);
            }
        }
        if (nv == 2) {
            _mm256_storeu_ps(cr, acc[i][0]);
            store256(cr + 8, acc[i][1], mask, full);
        } else {
            store256(cr, acc[i][0], mask, full);
        }
    }
}

#define BRX_CASE256(R)                                                                                               \
    case R:                                                                                                          \
        if (full) {                                                                                                  \
            if (nv == 2) kern256(R, 2, 1, kc, a, lda, b, ldb, c, ldc, loadc, mask);                                  \
            else kern256(R, 1, 1, kc, a, lda, b, ldb, c, ldc, loadc, mask);                                          \
        } else {                                                                                                     \
            if (nv == 2) kern256(R, 2, 0, kc, a, lda, b, ldb, c, ldc, loadc, mask);                                  \
            else kern256(R, 1, 0, kc, a, lda, b, ldb, c, ldc, loadc, mask);                                          \
        }                                                                                                            \
        break;

static void block256(int mr, int nv, int full, int kc, const float *a, int lda, const float *b, int ldb, float *c,
                     int ldc, int loadc, __m256i mask) {
    switch (mr) { BRX_CASE256(1) BRX_CASE256(2) BRX_CASE256(3) BRX_CASE256(4) BRX_CASE256(5) BRX_CASE256(6) }
}

// Large B: as sgemm_avx512_packed, with 128 x 16 panels.
static void sgemm_avx2_packed(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
                              int ldc, int accumulate) {
    float panel[BRX_KC * 16] __attribute__((aligned(32)));
    for (int p0 = 0; p0 < k; p0 += BRX_KC) {
        int kc = imin(BRX_KC, k - p0), loadc = accumulate || p0 > 0;
        for (int j0 = 0; j0 < n; j0 += 16) {
            int w = imin(16, n - j0), nv = (w + 7) / 8, last = w - 8 * (nv - 1);
            __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(last), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            const float *bs = b + (ptrdiff_t)p0 * ldb + j0;
            for (int p = 0; p < kc; p++) {
                const float *src = bs + (ptrdiff_t)p * ldb;
                if (nv == 2) {
                    _mm256_store_ps(panel + 16 * p, _mm256_loadu_ps(src));
                    _mm256_store_ps(panel + 16 * p + 8, load256(src + 8, mask, last == 8));
                } else {
                    _mm256_store_ps(panel + 16 * p, load256(src, mask, last == 8));
                }
            }
            for (int i0 = 0; i0 < m; i0 += MR256) {
                block256(imin(MR256, m - i0), nv, last == 8, kc, a + (ptrdiff_t)i0 * lda + p0, lda, panel, 16,
                         c + (ptrdiff_t)i0 * ldc + j0, ldc, loadc, mask);
            }
        }
    }
}

static void sgemm_avx2(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                       int accumulate) {
    if ((size_t)k * (size_t)n > (1u << 18) && m >= 4 * MR256) {
        sgemm_avx2_packed(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        return;
    }
    for (int p0 = 0; p0 < k; p0 += BRX_KC) {
        int kc = imin(BRX_KC, k - p0), loadc = accumulate || p0 > 0;
        for (int i0 = 0; i0 < m; i0 += MR256) {
            int mr = imin(MR256, m - i0);
            for (int j0 = 0; j0 < n; j0 += 16) {
                int w = imin(16, n - j0), nv = (w + 7) / 8, last = w - 8 * (nv - 1);
                __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(last), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
                block256(mr, nv, last == 8, kc, a + (ptrdiff_t)i0 * lda + p0, lda, b + (ptrdiff_t)p0 * ldb + j0, ldb,
                         c + (ptrdiff_t)i0 * ldc + j0, ldc, loadc, mask);
            }
        }
    }
}

#pragma clang attribute pop
#endif  // BRX_X86

void brx_sgemm_isa(int isa, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                   int accumulate) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) c[(ptrdiff_t)i * ldc + j] = 0;
        return;
    }
    int d = brx_isa_detected();
    switch (isa > d ? d : isa) {
#ifdef BRX_X86
    case BRX_ISA_AVX512: sgemm_avx512(m, n, k, a, lda, b, ldb, c, ldc, accumulate); return;
    case BRX_ISA_AVX2: sgemm_avx2(m, n, k, a, lda, b, ldb, c, ldc, accumulate); return;
#endif
    default: sgemm_generic(m, n, k, a, lda, b, ldb, c, ldc, accumulate); return;
    }
}

void brx_sgemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
               int accumulate) {
    brx_sgemm_isa(brx_isa_active(), m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}
