// Brixia's own SGEMM micro-kernels (AVX-512F, AVX2+FMA, portable C), selected at run time from the
// CPU's own features (cpuid + XGETBV), so the engine's speed does not depend on how OpenBLAS was
// built or on OPENBLAS_CORETYPE. Single-threaded: the engine's worker pool splits the work.
#ifndef BRX_KERNELS_H
#define BRX_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Kernel sets, in increasing order of capability.
enum { BRX_ISA_GENERIC = 0, BRX_ISA_AVX2 = 1, BRX_ISA_AVX512 = 2 };

/// The best kernel set this CPU and OS support (cpuid: AVX-512F / AVX2 + FMA, and the OS saving the
/// vector registers). Computed once.
int brx_isa_detected(void);
/// The kernel set in use (default: detected).
int brx_isa_active(void);
/// Selects a kernel set (tests, benchmarks); clamped to what is detected. Returns the set in use.
int brx_isa_select(int isa);
/// "avx512", "avx2" or "generic".
const char *brx_isa_name(int isa);

/// C (m x n, row stride ldc) = A (m x k, lda) * B (k x n, ldb) [+ C when accumulate != 0], all
/// row-major float32, single-threaded, with the active kernel set. Each C element sums k in slices of
/// 128 (in increasing order, fused multiply-adds where the CPU has them), each slice from zero, then
/// added to C: blocked summation, as BLAS kernels do, keeps long sums accurate.
void brx_sgemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
               int accumulate);
/// As brx_sgemm with the kernel set `isa` (clamped to what is detected), without changing the active
/// set (tests compare the sets side by side).
void brx_sgemm_isa(int isa, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                   int accumulate);

/// Winograd F(4x4,3x3) input transform of one tile for `c` channels (c % 4 == 0; the rest is ignored):
/// `d` holds the 36 channel-vector pointers of the 6 x 6 input tile (row-major), position k of
/// V = B^T d B is written at v + k * stride. Bit-identical for every kernel set.
void brx_winograd4x4_input(const float *const *d, float *v, ptrdiff_t stride, int c);
/// Winograd F(4x4,3x3) output transform of one tile for `cout` channels (cout % 4 == 0): position k of
/// M at src + k * ms; Y = A^T M A + bias (may be NULL), then ReLU when relu != 0; output row r at
/// dst + r * rowStride, column x at + x * cout; only rows x cols (<= 4 x 4) outputs are written.
/// Bit-identical for every kernel set.
void brx_winograd4x4_output(const float *src, ptrdiff_t ms, float *dst, ptrdiff_t rowStride, int rows, int cols,
                            int cout, const float *bias, int relu);

#ifdef __cplusplus
}
#endif
#endif
