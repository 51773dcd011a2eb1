// Winograd F(4x4,3x3) input transform V = B^T d B over channel vectors, 16 / 8 / 4 channels at a time
// with the widest vectors the CPU has (the engine's Swift SIMD4 version runs 4 lanes whatever the CPU).
// Same operations in the same order as the Swift version, without contraction into FMAs, so every set
// gives the same bits.
#include "brx_kernels.h"

#include <stddef.h>

#pragma clang fp contract(off)

typedef float brx_v4 __attribute__((vector_size(16)));
typedef float brx_v8 __attribute__((vector_size(32)));
typedef float brx_v16 __attribute__((vector_size(64)));

// 1-D B^T for F(4,3), points 0, 1, -1, 2, -2 (see Winograd.swift, bt4).
#define BRX_BT4(T, d0, d1, d2, d3, d4, d5, o0, o1, o2, o3, o4, o5)                                                   \
    do {                                                                                                             \
        T s12 = d1 + d2, s34 = d3 + d4, m12 = d1 - d2, m43 = d4 - d3, m42 = d4 - d2, m31 = d3 - d1;                  \
        o0 = 4 * d0 - 5 * d2 + d4;                                                                                   \
        o1 = s34 - 4 * s12;                                                                                          \
        o2 = m43 + 4 * m12;                                                                                          \
        o3 = m42 + 2 * m31;                                                                                          \
        o4 = m42 - 2 * m31;                                                                                          \
        o5 = 4 * d1 - 5 * d3 + d5;                                                                                   \
    } while (0)

#define BRX_WINO_IN(NAME, T)                                                                                         \
    static inline __attribute__((always_inline)) T NAME##_ld(const float *p) {                                       \
        T x;                                                                                                         \
        __builtin_memcpy(&x, p, sizeof(T));                                                                          \
        return x;                                                                                                    \
    }                                                                                                                \
    static inline __attribute__((always_inline)) void NAME(const float *const *d, float *v, ptrdiff_t stride,       \
                                                           int ci) {                                                 \
        T t[36];                                                                                                     \
        for (int j = 0; j < 6; j++) {                                                                                \
            T d0 = NAME##_ld(d[j] + ci), d1 = NAME##_ld(d[6 + j] + ci), d2 = NAME##_ld(d[12 + j] + ci);              \
            T d3 = NAME##_ld(d[18 + j] + ci), d4 = NAME##_ld(d[24 + j] + ci), d5 = NAME##_ld(d[30 + j] + ci);        \
            BRX_BT4(T, d0, d1, d2, d3, d4, d5, t[j], t[6 + j], t[12 + j], t[18 + j], t[24 + j], t[30 + j]);          \
        }                                                                                                            \
        float *o = v + ci;                                                                                           \
        for (int r = 0; r < 6; r++) {                                                                                \
            T *q = t + 6 * r, y0, y1, y2, y3, y4, y5;                                                                \
            BRX_BT4(T, q[0], q[1], q[2], q[3], q[4], q[5], y0, y1, y2, y3, y4, y5);                                  \
            __builtin_memcpy(o, &y0, sizeof(T)); o += stride;                                                        \
            __builtin_memcpy(o, &y1, sizeof(T)); o += stride;                                                        \
            __builtin_memcpy(o, &y2, sizeof(T)); o += stride;                                                        \
            __builtin_memcpy(o, &y3, sizeof(T)); o += stride;                                                        \
            __builtin_memcpy(o, &y4, sizeof(T)); o += stride;                                                        \
            __builtin_memcpy(o, &y5, sizeof(T)); o += stride;                                                        \
        }                                                                                                            \
    }

BRX_WINO_IN(wino_in4_generic, brx_v4)

static void wino_input_generic(const float *const *d, float *v, ptrdiff_t stride, int c) {
    for (int ci = 0; ci + 4 <= c; ci += 4) wino_in4_generic(d, v, stride, ci);
}

#if defined(__x86_64__) || defined(__i386__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
BRX_WINO_IN(wino_in8_avx2, brx_v8)
BRX_WINO_IN(wino_in4_avx2, brx_v4)
static void wino_input_avx2(const float *const *d, float *v, ptrdiff_t stride, int c) {
    int ci = 0;
    for (; ci + 8 <= c; ci += 8) wino_in8_avx2(d, v, stride, ci);
    for (; ci + 4 <= c; ci += 4) wino_in4_avx2(d, v, stride, ci);
}
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
BRX_WINO_IN(wino_in16_avx512, brx_v16)
BRX_WINO_IN(wino_in8_avx512, brx_v8)
BRX_WINO_IN(wino_in4_avx512, brx_v4)
static void wino_input_avx512(const float *const *d, float *v, ptrdiff_t stride, int c) {
    int ci = 0;
    for (; ci + 16 <= c; ci += 16) wino_in16_avx512(d, v, stride, ci);
    for (; ci + 8 <= c; ci += 8) wino_in8_avx512(d, v, stride, ci);
    for (; ci + 4 <= c; ci += 4) wino_in4_avx512(d, v, stride, ci);
}
#pragma clang attribute pop
#endif

void brx_winograd4x4_input(const float *const *d, float *v, ptrdiff_t stride, int c) {
    switch (brx_isa_active()) {
#if defined(__x86_64__) || defined(__i386__)
    case BRX_ISA_AVX512: wino_input_avx512(d, v, stride, c); return;
    case BRX_ISA_AVX2: wino_input_avx2(d, v, stride, c); return;
#endif
    default: wino_input_generic(d, v, stride, c); return;
    }
}
