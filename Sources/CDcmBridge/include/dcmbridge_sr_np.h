/* Plain C API for the short SR that says why Brixia did not score a study ("AI analysis not performed:
 * <reason>"), issue #14 item 3. Same conventions as dcmbridge_sr.h. */
#ifndef DCMBRIDGE_SR_NP_H
#define DCMBRIDGE_SR_NP_H
#include <stddef.h>
#include <stdint.h>
#include "dcmbridge_sr.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct dcmb_sr_np_input {
    dcmb_context context;
    dcmb_image_ref source;       /* the image that was examined */
    const char *device_observer_uid, *device_observer_name;
    const char *algorithm_name, *algorithm_version;
    const char *statement;       /* "AI analysis not performed: <reason>" */
    const char *disclaimer;
} dcmb_sr_np_input;

/* Writes a Comprehensive SR (TID 1500 root, no measurements) atomically; VerificationFlag UNVERIFIED. */
int dcmb_write_sr_not_performed(const char *directory, const char *filename, const dcmb_sr_np_input *input,
                                char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
