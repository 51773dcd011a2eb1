/* Plain C API for the rendered report: an RGB Secondary Capture image (SOP class 1.2.840.10008.5.1.4.1.1.7). */
#ifndef DCMBRIDGE_SC_H
#define DCMBRIDGE_SC_H
#include "dcmbridge_sr.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct dcmb_sc_input {
    dcmb_context context;
    dcmb_image_ref source;            /* recorded in SourceImageSequence */
    const char *derivation_description;
    const uint8_t *rgb;               /* rows*cols*3 bytes, interleaved R,G,B */
    uint32_t rows, cols;
    /* Derived from a lossy compressed source: Lossy Image Compression 01 with the source's ratio and method
     * (DICOM PS3.3 C.7.6.1.1.5: once lossy, always flagged). */
    int32_t source_lossy;
    const char *lossy_ratio, *lossy_method;   /* "" = absent */
} dcmb_sc_input;

int dcmb_write_sc(const char *directory, const char *filename, const dcmb_sc_input *input,
                  char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
