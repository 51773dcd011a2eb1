/* Plain C helpers over libhdf5 (the H5T_NATIVE_* macros cannot be imported into Swift). */
#ifndef BRIXIA_H5SHIM_H
#define BRIXIA_H5SHIM_H
#include <stddef.h>
#include <stdint.h>
int h5s_version(void);
#endif
