/* Plain C helpers over libhdf5 (serial). The H5T_NATIVE_* macros and H5P_DEFAULT are
 * expressions over library globals that Swift cannot import, so every call that needs them
 * lives here. Identifiers are int64_t (hid_t in HDF5 >= 1.10). libhdf5 serial is not
 * thread-safe: callers serialise access (the Swift side holds one global lock). */
#ifndef BRIXIA_H5SHIM_H
#define BRIXIA_H5SHIM_H
#include <stddef.h>
#include <stdint.h>

#define H5S_MAX_RANK 8

/* Return codes (negative = failure). */
enum {
    H5S_OK = 0,
    H5S_ERR = -1,          /* libhdf5 call failed (I/O, corrupt file) */
    H5S_NOT_FOUND = -2,    /* object or attribute does not exist */
    H5S_WRONG_TYPE = -3,   /* exists but has an unsupported datatype/class */
    H5S_TOO_LARGE = -4     /* rank above H5S_MAX_RANK or buffer size mismatch */
};

int h5s_version(void);
/* Turn off HDF5's automatic error stack printing to stderr (we report typed errors instead). */
void h5s_silence_errors(void);
/* 1 = HDF5 file, 0 = readable but not HDF5, negative = cannot be checked (e.g. missing). */
int h5s_is_hdf5(const char *path);

int64_t h5s_open_readonly(const char *path);              /* < 0 on failure */
int64_t h5s_create_truncate(const char *path);            /* < 0 on failure (test fixtures) */
void h5s_close_file(int64_t file);

/* 1 if an object (group or dataset) exists at path, 0 if not, negative on error. */
int h5s_object_exists(int64_t file, const char *path);
/* 1 if attribute `attr` exists on object `objpath` ("/" for the file root), 0 if not. */
int h5s_attr_exists(int64_t file, const char *objpath, const char *attr);

/* Read a string attribute (scalar or 1-D; fixed or variable length). On success stores a
 * malloc'd buffer of `*count` NUL-terminated strings laid end to end in *out (free with
 * h5s_free) and returns H5S_OK. Fixed-length strings lose trailing NUL/space padding. */
int h5s_attr_strings(int64_t file, const char *objpath, const char *attr,
                     char **out, size_t *out_len, size_t *count);
void h5s_free(void *p);

/* Dataset shape and element type. type_class: 1 = float, 2 = integer, 0 = other.
 * type_size in bytes. A scalar dataspace has rank 0. */
int h5s_dataset_info(int64_t file, const char *path, int *rank, int64_t *dims,
                     int *type_class, int *type_size);
/* Read a float dataset (any IEEE float width, converted by libhdf5) into `out` as float32.
 * `count` must equal the number of elements. */
int h5s_dataset_read_f32(int64_t file, const char *path, float *out, size_t count);

/* Writers, used only to make test fixtures (Keras-like or deliberately malformed files).
 * Intermediate groups are created. elem_bytes: 4 = float32, 8 = float64 (data is float32
 * and is widened), 2 = IEEE half (data is float32, converted by libhdf5). */
int h5s_write_dataset(int64_t file, const char *path, int rank, const int64_t *dims,
                      const float *data, int elem_bytes);
int h5s_create_group(int64_t file, const char *path);
/* String attribute layouts: a 1-D fixed-length array (h5py for numpy bytes arrays), a scalar
 * variable-length string (h5py for str), a scalar fixed-length string (h5py for numpy bytes,
 * as TF 2.2-era Keras wrote keras_version). Scalars need count == 1. */
enum { H5S_ATTR_ARRAY_FIXED = 0, H5S_ATTR_SCALAR_VLEN = 1, H5S_ATTR_SCALAR_FIXED = 2 };
int h5s_write_attr_strings(int64_t file, const char *objpath, const char *attr,
                           const char *const *strings, size_t count, int mode);
#endif
