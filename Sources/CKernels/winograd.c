// Winograd F(4x4,3x3) input transform V = B^T d B and output transform Y = A^T M A (+ bias, ReLU) over
// channel vectors, 16 / 8 / 4 channels at a time with the widest vectors the CPU has (the engine's
// Swift SIMD4 versions run 4 lanes whatever the CPU).
// Same operations in the same order as the Swift version, without contraction into FMAs, so every set
// gives the same bits.
#include "brx_kernels.h"

#include <stddef.h>

#pragma clang fp contract(off)

typedef float brx_v4 __attribute__((vector_size(16)));
typedef float brx_v8 __attribute__((vector_size(32)));
typedef float brx_v16 __attribute__((vector_size(64)));
typedef int brx_i4 __attribute__((vector_size(16)));
typedef int brx_i8 __attribute__((vector_size(32)));
typedef int brx_i16 __attribute__((vector_size(64)));

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

// Y = A^T M A for one tile and W channels at co, + bias, ReLU when relu (negative lanes to +0, NaN and -0
// kept, as Swift's replacing(with:where: y .< 0)); same expression order as Winograd.swift.
#define BRX_WINO_OUT(NAME, T, TI)                                                                                    \
    static inline __attribute__((always_inline)) void NAME(const float *src, ptrdiff_t ms, float *dst,              \
                                                           ptrdiff_t rowStride, int rows, int cols, int cout,        \
                                                           const float *bias, int relu, int co) {                    \
        T t[24], b = {0};                                                                                            \
        if (bias) __builtin_memcpy(&b, bias + co, sizeof(T));                                                        \
        for (int j = 0; j < 6; j++) {                                                                                \
            T m0, m1, m2, m3, m4, m5;                                                                                \
            __builtin_memcpy(&m0, src + j * ms + co, sizeof(T));                                                     \
            __builtin_memcpy(&m1, src + (6 + j) * ms + co, sizeof(T));                                               \
            __builtin_memcpy(&m2, src + (12 + j) * ms + co, sizeof(T));                                              \
            __builtin_memcpy(&m3, src + (18 + j) * ms + co, sizeof(T));                                              \
            __builtin_memcpy(&m4, src + (24 + j) * ms + co, sizeof(T));                                              \
            __builtin_memcpy(&m5, src + (30 + j) * ms + co, sizeof(T));                                              \
            T p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4;                                            \
            t[j] = m0 + p12 + p34;                                                                                   \
            t[6 + j] = d12 + 2 * d34;                                                                                \
            t[12 + j] = p12 + 4 * p34;                                                                               \
            t[18 + j] = d12 + 8 * d34 + m5;                                                                          \
        }                                                                                                            \
        for (int r = 0; r < rows; r++) {                                                                            \
            T *q = t + 6 * r;                                                                                        \
            T p12 = q[1] + q[2], d12 = q[1] - q[2], p34 = q[3] + q[4], d34 = q[3] - q[4];                            \
            T y[4] = {q[0] + p12 + p34, d12 + 2 * d34, p12 + 4 * p34, d12 + 8 * d34 + q[5]};                         \
            float *row = dst + r * rowStride + co;                                                                   \
            for (int x = 0; x < cols; x++) {                                                                         \
                T v = y[x] + b;                                                                                      \
                if (relu) v = (T)((TI)v & ~(TI)(v < 0));                                                             \
                __builtin_memcpy(row + (ptrdiff_t)x * cout, &v, sizeof(T));                                          \
            }                                                                                                        \
        }                                                                                                            \
    }

BRX_WINO_IN(wino_in4_generic, brx_v4)
BRX_WINO_OUT(wino_out4_generic, brx_v4, brx_i4)

static void wino_input_generic(const float *const *d, float *v, ptrdiff_t stride, int c) {
    for (int ci = 0; ci + 4 <= c; ci += 4) wino_in4_generic(d, v, stride, ci);
}
#define BRX_OUT_ARGS src, ms, dst, rowStride, rows, cols, cout, bias, relu
#define BRX_OUT_PARAMS                                                                                               \
    const float *src, ptrdiff_t ms, float *dst, ptrdiff_t rowStride, int rows, int cols, int cout, const float *bias, \
        int relu
static void wino_output_generic(BRX_OUT_PARAMS) {
    for (int co = 0; co + 4 <= cout; co += 4) wino_out4_generic(BRX_OUT_ARGS, co);
}

#if defined(__x86_64__) || defined(__i386__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
BRX_WINO_IN(wino_in8_avx2, brx_v8)
BRX_WINO_IN(wino_in4_avx2, brx_v4)
BRX_WINO_OUT(wino_out8_avx2, brx_v8, brx_i8)
BRX_WINO_OUT(wino_out4_avx2, brx_v4, brx_i4)
static void wino_input_avx2(const float *const *d, float *v, ptrdiff_t stride, int c) {
    int ci = 0;
    for (; ci + 8 <= c; ci += 8) wino_in8_avx2(d, v, stride, ci);
    for (; ci + 4 <= c; ci += 4) wino_in4_avx2(d, v, stride, ci);
}
static void wino_output_avx2(BRX_OUT_PARAMS) {
    int co = 0;
    for (; co + 8 <= cout; co += 8) wino_out8_avx2(BRX_OUT_ARGS, co);
    for (; co + 4 <= cout; co += 4) wino_out4_avx2(BRX_OUT_ARGS, co);
}
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
BRX_WINO_IN(wino_in16_avx512, brx_v16)
BRX_WINO_IN(wino_in8_avx512, brx_v8)
BRX_WINO_IN(wino_in4_avx512, brx_v4)
BRX_WINO_OUT(wino_out16_avx512, brx_v16, brx_i16)
BRX_WINO_OUT(wino_out8_avx512, brx_v8, brx_i8)
BRX_WINO_OUT(wino_out4_avx512, brx_v4, brx_i4)
static void wino_input_avx512(const float *const *d, float *v, ptrdiff_t stride, int c) {
    int ci = 0;
    for (; ci + 16 <= c; ci += 16) wino_in16_avx512(d, v, stride, ci);
    for (; ci + 8 <= c; ci += 8) wino_in8_avx512(d, v, stride, ci);
    for (; ci + 4 <= c; ci += 4) wino_in4_avx512(d, v, stride, ci);
}
static void wino_output_avx512(BRX_OUT_PARAMS) {
    int co = 0;
    for (; co + 16 <= cout; co += 16) wino_out16_avx512(BRX_OUT_ARGS, co);
    for (; co + 8 <= cout; co += 8) wino_out8_avx512(BRX_OUT_ARGS, co);
    for (; co + 4 <= cout; co += 4) wino_out4_avx512(BRX_OUT_ARGS, co);
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

void brx_winograd4x4_output(const float *src, ptrdiff_t ms, float *dst, ptrdiff_t rowStride, int rows, int cols,
                            int cout, const float *bias, int relu) {
    switch (brx_isa_active()) {
#if defined(__x86_64__) || defined(__i386__)
    case BRX_ISA_AVX512: wino_output_avx512(BRX_OUT_ARGS); return;
    case BRX_ISA_AVX2: wino_output_avx2(BRX_OUT_ARGS); return;
#endif
    default: wino_output_generic(BRX_OUT_ARGS); return;
    }
}
