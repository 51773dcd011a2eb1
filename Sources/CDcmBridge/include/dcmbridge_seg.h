/* Plain C API for a FRACTIONAL (probability) DICOM Segmentation (1.2.840.10008.5.1.4.1.1.66.4) of one frame:
 * the explainability strength map on the grid of the analysed image (no Frame of Reference). */
#ifndef DCMBRIDGE_SEG_H
#define DCMBRIDGE_SEG_H
#include "dcmbridge_sr.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct dcmb_seg_input {
    dcmb_context context;
    dcmb_image_ref source;            /* the analysed image: referenced per frame (Derivation Image) */
    const char *patient_orientation;  /* copied from the source (type 2C; "" when it had none) */
    const char *content_label;        /* CS, e.g. "BRIXIA_RELEVANCE" */
    const char *content_description;  /* LO: says AI generated, not for diagnostic use */
    const char *segment_label;        /* LO */
    const char *segment_description;  /* ST */
    const char *algorithm_name;       /* LO: model name and version */
    const char *derivation_description; /* ST: method, model, weights SHA-256 */
    dcmb_code category, type;         /* Segmented Property Category / Type */
    double pixel_spacing_row, pixel_spacing_col; /* mm, from the source (PixelSpacing or ImagerPixelSpacing); 0 = unknown */
    const char *dimension_organization_uid; /* under the writer's UID root */
    const uint8_t *fractions;         /* rows*cols values, 0..255 = 0..1 */
    uint32_t rows, cols;              /* the source image's size */
} dcmb_seg_input;

int dcmb_write_seg(const char *directory, const char *filename, const dcmb_seg_input *input,
                   char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
