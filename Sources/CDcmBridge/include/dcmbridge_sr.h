/* Plain C API for writing the Brixia DICOM outputs (Comprehensive SR here, Secondary Capture in
 * dcmbridge_sc.h). All strings are UTF-8; NULL or "" means "absent". No C++ types appear here. */
#ifndef DCMBRIDGE_SR_H
#define DCMBRIDGE_SR_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* Result of every dcmb_write_* call. The error text always names the path involved. */
typedef enum dcmb_write_status {
    DCMB_WRITE_OK = 0,
    DCMB_WRITE_INVALID_INPUT = 1,      /* a value DCMTK refused (bad UID, bad code, ...) */
    DCMB_WRITE_DIRECTORY_MISSING = 2,  /* target directory does not exist (or vanished) */
    DCMB_WRITE_NOT_WRITABLE = 3,       /* EACCES / EPERM / EROFS, or target is not a directory */
    DCMB_WRITE_DISK_FULL = 4,          /* ENOSPC / EDQUOT */
    DCMB_WRITE_IO_ERROR = 5,           /* any other I/O failure */
    DCMB_WRITE_ENCODING_ERROR = 6,     /* DCMTK could not build or encode the object */
    DCMB_WRITE_INTERNAL_ERROR = 7      /* unexpected C++ exception */
} dcmb_write_status;

typedef struct dcmb_code { const char *value, *scheme, *meaning; } dcmb_code;

/* One Other Patient IDs Sequence item. */
typedef struct dcmb_other_patient_id { const char *id, *issuer, *type; } dcmb_other_patient_id;

/* Patient, study and equipment attributes copied onto every output so it joins the source study. */
typedef struct dcmb_context {
    const char *patient_id, *issuer_of_patient_id, *patient_name, *patient_sex, *patient_birth_date;
    const char *study_instance_uid, *study_date, *study_time, *study_id, *accession_number;
    const char *study_description, *referring_physician_name;
    const char *manufacturer, *manufacturer_model_name, *software_versions, *institution_name;
    const char *device_serial_number;
    /* the new object */
    const char *series_instance_uid, *sop_instance_uid, *series_number, *instance_number, *series_description;
    const char *content_date, *content_time; /* YYYYMMDD, HHMMSS */
    /* more study-level attributes of the source (all optional) */
    const char *timezone_offset_from_utc;   /* "+HHMM" */
    const char *patient_age;                /* "063Y" */
    const char *accession_issuer_local, *accession_issuer_universal, *accession_issuer_universal_type;
    const dcmb_other_patient_id *other_patient_ids;
    size_t other_patient_id_count;
} dcmb_context;

typedef struct dcmb_image_ref {
    const char *study_instance_uid, *series_instance_uid, *sop_class_uid, *sop_instance_uid;
    const char *modality, *study_date;
    /* Image Library entry descriptors (TID 1602) as highdicom writes them; 0 / NULL = unknown */
    uint32_t rows, columns;
    const char *patient_orientation;      /* "row\column", e.g. "P\F" */
    double pixel_spacing_row, pixel_spacing_col;   /* mm */
} dcmb_image_ref;

typedef struct dcmb_sr_zone {
    dcmb_code concept;        /* the zone's measurement name, BRX-ZONE-A.. (99BRIXIA) */
    dcmb_code finding_site;   /* upper/middle/lower zone of lung (SCT) */
    dcmb_code laterality;     /* right/left (SCT) */
    const char *label;        /* "A".."F", used in error messages */
    const char *tracking_identifier, *tracking_uid;   /* of the zone's measurement group */
    int32_t grade;            /* 0..3 */
    int32_t has_probabilities;
    double probabilities[4];  /* p(grade 0..3) */
    int32_t has_confidence;
    double confidence;        /* calibrated probability of `grade` (0..1), BRX-ZCONF */
} dcmb_sr_zone;

typedef struct dcmb_sr_input {
    dcmb_context context;
    dcmb_image_ref source;
    int32_t has_prior;
    dcmb_image_ref prior;
    int32_t prior_global;
    /* device observer / algorithm */
    const char *device_observer_uid, *device_observer_name;
    const char *algorithm_name, *algorithm_version, *weights_sha256;
    const char *tracking_identifier, *tracking_uid;   /* of the global score's measurement group */
    dcmb_sr_zone zones[6];
    int32_t global;
    int32_t has_confidence;
    double confidence;
    int32_t has_change;
    int32_t delta;
    dcmb_code trend;          /* BRX-WORSE / BRX-STABLE / BRX-BETTER */
    const dcmb_code *alerts;
    size_t alert_count;
    const char *disclaimer;   /* "AI-generated, not verified by a physician ..." */
    /* amended report: the replaced SR (Predecessor Documents Sequence, same study) and why; NULL: original */
    const char *predecessor_series_uid, *predecessor_sop_instance_uid;
    const char *amendment_text;
    const char *input_note;   /* provenance of the analysed image (lossy compression, preprocessing); "" = absent */
} dcmb_sr_input;

/* Writes a Comprehensive SR (TID 1500) to directory/filename atomically (temp file + rename). */
int dcmb_write_sr(const char *directory, const char *filename, const dcmb_sr_input *input,
                  char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
