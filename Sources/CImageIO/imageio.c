#include "imageio.h"
#include <png.h>
#include <jpeglib.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

int imgio_version(void) { return 2; }
void imgio_free(void *p) { free(p); }

static void set_err(char *err, size_t errlen, const char *msg) {
    if (!err || errlen == 0) return;
    snprintf(err, errlen, "%s", msg);
}

/* ---- PNG ---- */
struct png_err { jmp_buf jb; char msg[200]; };
static void png_error_fn(png_structp p, png_const_charp m) {
    struct png_err *e = (struct png_err *)png_get_error_ptr(p);
    snprintf(e->msg, sizeof e->msg, "%s", m);
    longjmp(e->jb, 1);
}
static void png_warn_fn(png_structp p, png_const_charp m) { (void)p; (void)m; }

static int read_png(FILE *fp, uint8_t **pixels, int32_t *w, int32_t *h, char *err, size_t errlen) {
    struct png_err e; e.msg[0] = 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &e, png_error_fn, png_warn_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) { if (png) png_destroy_read_struct(&png, NULL, NULL); set_err(err, errlen, "out of memory"); return 3; }
    uint8_t *volatile out = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(e.jb)) {
        png_destroy_read_struct(&png, &info, NULL);
        free(out); free(rows);
        set_err(err, errlen, e.msg[0] ? e.msg : "corrupt PNG");
        return 3;
    }
    png_init_io(png, fp);
    png_read_info(png, info);
    png_uint_32 W = png_get_image_width(png, info), H = png_get_image_height(png, info);
    int ct = png_get_color_type(png, info), bd = png_get_bit_depth(png, info);
    if ((uint64_t)W * H > (uint64_t)1 << 28) { png_destroy_read_struct(&png, &info, NULL); set_err(err, errlen, "PNG too large"); return 3; }
    if (bd == 16) png_set_strip_16(png);
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ct == PNG_COLOR_TYPE_GRAY && bd < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (ct & PNG_COLOR_MASK_ALPHA || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    if (ct & PNG_COLOR_MASK_COLOR || ct == PNG_COLOR_TYPE_PALETTE)
        png_set_rgb_to_gray_fixed(png, 1, 29900, 58700);   /* as OpenCV's PNG decoder for IMREAD_GRAYSCALE */
    png_read_update_info(png, info);
    if (png_get_channels(png, info) != 1 || png_get_bit_depth(png, info) != 8) {
        png_destroy_read_struct(&png, &info, NULL); set_err(err, errlen, "unsupported PNG layout"); return 3;
    }
    out = (uint8_t *)malloc((size_t)W * H);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * H);
    if (!out || !rows) { png_destroy_read_struct(&png, &info, NULL); free(out); free(rows); set_err(err, errlen, "out of memory"); return 3; }
    for (png_uint_32 y = 0; y < H; y++) rows[y] = out + (size_t)y * W;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    *pixels = out; *w = (int32_t)W; *h = (int32_t)H;
    return 0;
}

/* ---- JPEG ---- */
struct jpg_err { struct jpeg_error_mgr pub; jmp_buf jb; };
static void jpg_error_exit(j_common_ptr c) { longjmp(((struct jpg_err *)c->err)->jb, 1); }
static void jpg_output_message(j_common_ptr c) { (void)c; }

static int read_jpeg(FILE *fp, uint8_t **pixels, int32_t *w, int32_t *h, char *err, size_t errlen) {
    struct jpeg_decompress_struct cinfo;
    struct jpg_err je;
    uint8_t *volatile out = NULL;
    cinfo.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jpg_error_exit;
    je.pub.output_message = jpg_output_message;
    if (setjmp(je.jb)) {
        char msg[JMSG_LENGTH_MAX];
        (*cinfo.err->format_message)((j_common_ptr)&cinfo, msg);
        jpeg_destroy_decompress(&cinfo);
        free(out);
        set_err(err, errlen, msg);
        return 3;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, fp);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&cinfo); set_err(err, errlen, "CMYK JPEG not supported"); return 3;
    }
    cinfo.out_color_space = JCS_GRAYSCALE;   /* libjpeg keeps the Y channel, as OpenCV IMREAD_GRAYSCALE */
    jpeg_start_decompress(&cinfo);
    size_t W = cinfo.output_width, H = cinfo.output_height;
    if (cinfo.output_components != 1 || W * H > ((size_t)1 << 28)) {
        jpeg_destroy_decompress(&cinfo); set_err(err, errlen, "unsupported JPEG layout"); return 3;
    }
    out = (uint8_t *)malloc(W * H);
    if (!out) { jpeg_destroy_decompress(&cinfo); set_err(err, errlen, "out of memory"); return 3; }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + (size_t)cinfo.output_scanline * W;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    *pixels = out; *w = (int32_t)W; *h = (int32_t)H;
    return 0;
}

int imgio_read_gray8(const char *path, uint8_t **pixels, int32_t *width, int32_t *height, char *err, size_t errlen) {
    if (!path || !pixels || !width || !height) { set_err(err, errlen, "null argument"); return 3; }
    *pixels = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) { set_err(err, errlen, strerror(errno)); return 1; }
    unsigned char sig[8] = {0};
    size_t n = fread(sig, 1, 8, fp);
    rewind(fp);
    int rc;
    if (n == 8 && png_sig_cmp(sig, 0, 8) == 0) rc = read_png(fp, pixels, width, height, err, errlen);
    else if (n >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF) rc = read_jpeg(fp, pixels, width, height, err, errlen);
    else { set_err(err, errlen, "not a PNG or JPEG file"); rc = 2; }
    fclose(fp);
    return rc;
}

int imgio_write_png(const char *path, const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                    char *err, size_t errlen) {
    if (!path || !pixels || width <= 0 || height <= 0 || (channels != 1 && channels != 3)) {
        set_err(err, errlen, "invalid arguments"); return 3;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) { set_err(err, errlen, strerror(errno)); return 1; }
    struct png_err e; e.msg[0] = 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, png_error_fn, png_warn_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) { if (png) png_destroy_write_struct(&png, NULL); fclose(fp); set_err(err, errlen, "out of memory"); return 3; }
    if (setjmp(e.jb)) {
        png_destroy_write_struct(&png, &info);
        fclose(fp);
        set_err(err, errlen, e.msg[0] ? e.msg : "PNG write failed");
        return 3;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int32_t y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * channels));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    if (fclose(fp) != 0) { set_err(err, errlen, strerror(errno)); return 1; }
    return 0;
}

/* ---- PNG into memory (renderings embedded in DICOM and served as previews) ---- */
struct membuf { uint8_t *data; size_t len, cap; int failed; };
static void membuf_write(png_structp png, png_bytep bytes, png_size_t n) {
    struct membuf *m = (struct membuf *)png_get_io_ptr(png);
    if (m->failed) return;
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        while (cap < m->len + n) cap *= 2;
        uint8_t *d = realloc(m->data, cap);
        if (!d) { m->failed = 1; png_error(png, "out of memory"); return; }
        m->data = d; m->cap = cap;
    }
    memcpy(m->data + m->len, bytes, n);
    m->len += n;
}
static void membuf_flush(png_structp png) { (void)png; }

int imgio_encode_png(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                     uint8_t **out, size_t *outlen, char *err, size_t errlen) {
    if (!pixels || !out || !outlen || width <= 0 || height <= 0 || (channels != 1 && channels != 3)) {
        set_err(err, errlen, "invalid arguments"); return 3;
    }
    struct membuf m = { NULL, 0, 0, 0 };
    struct png_err e; e.msg[0] = 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, png_error_fn, png_warn_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) { if (png) png_destroy_write_struct(&png, NULL); set_err(err, errlen, "out of memory"); return 3; }
    if (setjmp(e.jb)) {
        png_destroy_write_struct(&png, &info);
        free(m.data);
        set_err(err, errlen, e.msg[0] ? e.msg : "PNG encoding failed");
        return 3;
    }
    png_set_write_fn(png, &m, membuf_write, membuf_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int32_t y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * channels));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *out = m.data; *outlen = m.len;
    return 0;
}

