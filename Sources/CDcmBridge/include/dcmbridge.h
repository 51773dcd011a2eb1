/* Plain C API over DCMTK. This header is all that Swift sees; no C++ or DCMTK types may appear here. */
#ifndef DCMBRIDGE_H
#define DCMBRIDGE_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
/* Registers the JPEG, JPEG-LS and RLE decoders once per process (std::call_once). */
void dcmb_register_codecs(void);
#ifdef __cplusplus
}
#endif
#endif
