/* Plain C helpers over libpng and libjpeg for research image files and PNG previews. */
#ifndef BRIXIA_IMAGEIO_H
#define BRIXIA_IMAGEIO_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

int imgio_version(void);

/* Reads a PNG or JPEG (detected by signature) as 8-bit grayscale, converting like OpenCV IMREAD_GRAYSCALE:
 * colour JPEG -> libjpeg's Y channel; colour PNG -> libpng rgb_to_gray with 0.299/0.587/0.114; 16-bit PNG -> high byte.
 * On success returns 0 and *pixels (free with imgio_free) holds w*h bytes row-major. On failure returns
 * 1 (cannot open), 2 (not PNG/JPEG), 3 (corrupt/unsupported) with a message in err. */
int imgio_read_gray8(const char *path, uint8_t **pixels, int32_t *width, int32_t *height, char *err, size_t errlen);

/* Writes an 8-bit PNG with 1 (gray) or 3 (RGB) channels. Returns 0 on success. */
int imgio_write_png(const char *path, const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                    char *err, size_t errlen);

/* Encodes an 8-bit PNG (1 or 3 channels) into memory. On success returns 0 and *out (free with imgio_free)
 * holds *outlen bytes; otherwise 3 with a message in err. */
int imgio_encode_png(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                     uint8_t **out, size_t *outlen, char *err, size_t errlen);

void imgio_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
