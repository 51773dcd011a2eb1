/* Plain C API over DCMTK. This header is all that Swift sees; no C++ or DCMTK types may appear here.
 * Every function catches all C++ exceptions; none escapes into Swift.
 * A dcmb_file handle holds one fully loaded dataset; use one handle per thread (different handles may be used
 * concurrently). Codec registration happens once per process, inside dcmb_open. */
#ifndef DCMBRIDGE_H
#define DCMBRIDGE_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* Registers the JPEG, JPEG-LS and RLE decoders once per process (std::call_once). */
void dcmb_register_codecs(void);

/* Error kinds reported by the bridge (Swift maps them onto DicomError). */
typedef enum dcmb_status {
    DCMB_OK = 0,
    DCMB_ERR_NOT_DICOM = 1,          /* no DICM preamble and no plausible dataset start */
    DCMB_ERR_TRUNCATED = 2,          /* premature end of stream while parsing */
    DCMB_ERR_PARSE = 3,              /* other parser failure (corrupt header) */
    DCMB_ERR_UNSUPPORTED_TS = 4,     /* transfer syntax we cannot decode */
    DCMB_ERR_NO_PIXEL_DATA = 5,
    DCMB_ERR_PIXEL_SHORT = 6,        /* native pixel data shorter than rows x cols x bits */
    DCMB_ERR_MULTIFRAME = 7,
    DCMB_ERR_COLOUR = 8,
    DCMB_ERR_DECODE = 9,             /* codec / DicomImage failure */
    DCMB_ERR_IO = 10,                /* file could not be opened or read */
    DCMB_ERR_INTERNAL = 11,          /* unexpected C++ exception, bad argument */
    DCMB_ERR_BAD_GEOMETRY = 12,      /* rows/columns/bits missing, out of range, or not matching the Pixel Data */
    DCMB_ERR_LIMIT = 13,             /* file or declared image larger than the configured dcmb_limits */
    DCMB_ERR_CHARSET = 14            /* Specific Character Set not convertible to UTF-8 (unknown set, invalid bytes) */
} dcmb_status;

/* Input limits, enforced before anything proportional to a declared size is allocated. 0 = no limit. */
typedef struct dcmb_limits {
    uint64_t max_file_bytes;   /* larger files are refused before DCMTK reads them */
    uint32_t max_rows, max_columns;
    uint32_t max_frames;       /* NumberOfFrames */
    uint64_t max_pixels;       /* rows x columns x frames */
} dcmb_limits;

typedef struct dcmb_file dcmb_file;

/* Loads a file (preamble/File Meta optional: read mode auto-detect). Returns NULL on failure with *status and err set. */
dcmb_file *dcmb_open(const char *path, int32_t *status, char *err, size_t errlen);
/* dcmb_open with limits (NULL = none); the handle keeps them for dcmb_check_pixels and the decoders. */
dcmb_file *dcmb_open_limited(const char *path, const dcmb_limits *limits, int32_t *status, char *err, size_t errlen);
void dcmb_close(dcmb_file *f);

/* 1 if the file had a File Meta header. */
int32_t dcmb_has_meta(const dcmb_file *f);
/* Transfer syntax UID of the dataset as read (from File Meta, or the detected one). Returns the length. */
int32_t dcmb_transfer_syntax(const dcmb_file *f, char *buf, size_t len);

/* SpecificCharacterSet as declared in the file (the loaded dataset is converted to UTF-8 by dcmb_open, so text
 * values read below are UTF-8 whatever the file used). Returns the length; 0 when absent. */
int32_t dcmb_declared_charset(const dcmb_file *f, char *buf, size_t len);

/* Whole value of a top-level element as its bytes (all values joined with '\'; UTF-8 after dcmb_open's conversion),
 * NUL-terminated and truncated to len-1. Returns the full value length, or -1 when the element is absent. */
int32_t dcmb_get_string(const dcmb_file *f, uint16_t group, uint16_t element, char *buf, size_t len);
/* Value multiplicity of a top-level element; -1 when absent. */
int32_t dcmb_value_count(const dcmb_file *f, uint16_t group, uint16_t element);
/* Numeric value idx of US/SS/UL/IS/DS/FD... elements; returns 1 on success, 0 when absent or not numeric. */
int32_t dcmb_get_number(const dcmb_file *f, uint16_t group, uint16_t element, uint32_t idx, double *out);
/* Number of items of a top-level sequence; -1 when absent. */
int32_t dcmb_sequence_count(const dcmb_file *f, uint16_t group, uint16_t element);
/* dcmb_get_string for an element of item `index` of a top-level sequence; -1 when the item or element is absent. */
int32_t dcmb_get_item_string(const dcmb_file *f, uint16_t seq_group, uint16_t seq_element, uint32_t index,
                             uint16_t group, uint16_t element, char *buf, size_t len);

/* Pixel data description: present (0/1), encapsulated (0/1), byte length of native data (0 when encapsulated). */
void dcmb_pixel_info(const dcmb_file *f, int32_t *present, int32_t *encapsulated, uint64_t *native_length);

/* Declared image geometry (Rows, Columns, NumberOfFrames, Bits Allocated/Stored, High Bit, Samples per Pixel,
 * Pixel Representation, Planar Configuration) checked for consistency, against the handle's limits, and against
 * the Pixel Data actually present: native data must have exactly the declared byte length (plus one pad byte),
 * encapsulated data at least one non-empty fragment per frame. DCMB_OK also when there is no Pixel Data.
 * Allocates nothing proportional to the declared size. */
int32_t dcmb_check_pixels(const dcmb_file *f, char *err, size_t errlen);
/* Everything the decoders check before decoding (dcmb_check_pixels, syntax, single monochrome frame, 8/16 bits):
 * call it before allocating an output buffer. */
int32_t dcmb_check_decodable(dcmb_file *f, char *err, size_t errlen);

/* Display image in [0,1] (0 black, 1 white): modality LUT, VOI (first window, else first VOI LUT, else for
 * <= 8 bits stored the full range, else min-max), MONOCHROME1 / Presentation LUT Shape handled.
 * out must hold capacity floats (rows*cols). Writes *used_voi: 1 window, 2 VOI LUT, 3 full range, 4 min-max. */
int32_t dcmb_decode_display(dcmb_file *f, float *out, size_t capacity, int32_t *rows, int32_t *cols,
                            int32_t *used_voi, char *err, size_t errlen);
/* Modality values (rescale / modality LUT applied, no VOI, no inversion) as doubles. */
int32_t dcmb_decode_modality(dcmb_file *f, double *out, size_t capacity, int32_t *rows, int32_t *cols,
                             char *err, size_t errlen);
/* Stored values (masked to Bits Stored, sign-extended when Pixel Representation = 1) as int32. */
int32_t dcmb_decode_stored(dcmb_file *f, int32_t *out, size_t capacity, int32_t *rows, int32_t *cols,
                           char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
