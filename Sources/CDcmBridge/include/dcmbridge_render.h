#ifndef DCMBRIDGE_RENDER_H
#define DCMBRIDGE_RENDER_H
// Reading back a rendered image (the report page Secondary Capture) as 8-bit RGB for display
// (the web console serves it as PNG). Colour and monochrome images; no VOI beyond the stored one.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Decodes the first frame of the DICOM file at `path` into newly allocated interleaved RGB bytes
/// (rows*cols*3, free with dcmb_free_rgb). Refuses images larger than max_pixels.
/// Returns 0 on success, else -1 with a message in err.
int32_t dcmb_read_rgb8(const char *path, uint64_t max_pixels, uint8_t **out, int32_t *rows, int32_t *cols,
                       char *err, size_t errlen);
void dcmb_free_rgb(uint8_t *p);

#ifdef __cplusplus
}
#endif
#endif
