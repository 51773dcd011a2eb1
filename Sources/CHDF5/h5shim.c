/* Plain C helpers over libhdf5; see include/h5shim.h for the contract. */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include "h5shim.h"

int h5s_version(void) { unsigned a, b, c; H5get_libversion(&a, &b, &c); return (int)(a * 10000 + b * 100 + c); }

void h5s_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

int h5s_is_hdf5(const char *path) {
    htri_t r = H5Fis_hdf5(path);
    if (r > 0) return 1;
    if (r == 0) return 0;
    return H5S_ERR;
}

int64_t h5s_open_readonly(const char *path) { return (int64_t)H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); }

int64_t h5s_create_truncate(const char *path) {
    return (int64_t)H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
}

void h5s_close_file(int64_t file) { if (file >= 0) H5Fclose((hid_t)file); }

void h5s_free(void *p) { free(p); }

/* H5Lexists fails (instead of answering 0) when an intermediate group is missing, so walk
 * the path one component at a time. */
int h5s_object_exists(int64_t file, const char *path) {
    size_t n = strlen(path);
    char *buf = malloc(n + 1);
    if (!buf) return H5S_ERR;
    memcpy(buf, path, n + 1);
    int result = 1;
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char saved = buf[i];
            buf[i] = '\0';
            if (buf[i - 1] != '/' && strcmp(buf, "/") != 0) {
                htri_t e = H5Lexists((hid_t)file, buf, H5P_DEFAULT);
                if (e <= 0) { result = e == 0 ? 0 : H5S_ERR; buf[i] = saved; break; }
                htri_t o = H5Oexists_by_name((hid_t)file, buf, H5P_DEFAULT);
                if (o <= 0) { result = o == 0 ? 0 : H5S_ERR; buf[i] = saved; break; }
            }
            buf[i] = saved;
        }
    }
    free(buf);
    return result;
}

int h5s_attr_exists(int64_t file, const char *objpath, const char *attr) {
    if (strcmp(objpath, "/") != 0) {
        int e = h5s_object_exists(file, objpath);
        if (e <= 0) return e;
    }
    htri_t r = H5Aexists_by_name((hid_t)file, objpath, attr, H5P_DEFAULT);
    return r > 0 ? 1 : (r == 0 ? 0 : H5S_ERR);
}

/* Appends `len` bytes plus a NUL to a growing buffer. */
static int append_string(char **buf, size_t *used, size_t *cap, const char *s, size_t len) {
    if (*used + len + 1 > *cap) {
        size_t ncap = (*cap ? *cap * 2 : 256);
        while (ncap < *used + len + 1) ncap *= 2;
        char *nb = realloc(*buf, ncap);
        if (!nb) return H5S_ERR;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *used, s, len);
    (*buf)[*used + len] = '\0';
    *used += len + 1;
    return H5S_OK;
}

int h5s_attr_strings(int64_t file, const char *objpath, const char *attr,
                     char **out, size_t *out_len, size_t *count) {
    *out = NULL; *out_len = 0; *count = 0;
    int ex = h5s_attr_exists(file, objpath, attr);
    if (ex == 0) return H5S_NOT_FOUND;
    if (ex < 0) return H5S_ERR;
    hid_t a = H5Aopen_by_name((hid_t)file, objpath, attr, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) return H5S_ERR;
    int rc = H5S_ERR;
    hid_t ftype = H5Aget_type(a), space = H5Aget_space(a), mtype = -1;
    char *buf = NULL; size_t used = 0, cap = 0;
    if (ftype < 0 || space < 0) goto done;
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0 || rank > 1) { rc = H5S_WRONG_TYPE; goto done; }
    hssize_t npoints = H5Sget_simple_extent_npoints(space);
    if (npoints < 0) goto done;
    size_t n = (size_t)npoints;
    /* Keras writes an empty weight_names list as an empty float64 array: zero strings. */
    if (n == 0) { rc = H5S_OK; goto done; }
    if (H5Tget_class(ftype) != H5T_STRING) { rc = H5S_WRONG_TYPE; goto done; }
    htri_t vlen = H5Tis_variable_str(ftype);
    if (vlen < 0) goto done;
    mtype = H5Tcopy(H5T_C_S1);
    if (mtype < 0) goto done;
    if (vlen) {
        if (H5Tset_size(mtype, H5T_VARIABLE) < 0) goto done;
        H5Tset_cset(mtype, H5Tget_cset(ftype));
        char **ptrs = calloc(n ? n : 1, sizeof(char *));
        if (!ptrs) goto done;
        if (H5Aread(a, mtype, ptrs) < 0) { free(ptrs); goto done; }
        rc = H5S_OK;
        for (size_t i = 0; i < n && rc == H5S_OK; i++) {
            const char *s = ptrs[i] ? ptrs[i] : "";
            rc = append_string(&buf, &used, &cap, s, strlen(s));
        }
        H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, ptrs);
        free(ptrs);
    } else {
        size_t sz = H5Tget_size(ftype);
        if (sz == 0) goto done;
        if (H5Tset_size(mtype, sz) < 0) goto done;
        /* Read raw bytes: NULLPAD keeps exact bytes, we trim padding ourselves. */
        H5Tset_strpad(mtype, H5T_STR_NULLPAD);
        H5Tset_cset(mtype, H5Tget_cset(ftype));
        char *raw = calloc(n ? n : 1, sz);
        if (!raw) goto done;
        if (H5Aread(a, mtype, raw) < 0) { free(raw); goto done; }
        rc = H5S_OK;
        for (size_t i = 0; i < n && rc == H5S_OK; i++) {
            const char *s = raw + i * sz;
            size_t len = 0;
            while (len < sz && s[len] != '\0') len++;
            while (len > 0 && s[len - 1] == ' ') len--;
            rc = append_string(&buf, &used, &cap, s, len);
        }
        free(raw);
    }
    if (rc == H5S_OK) { *out = buf; *out_len = used; *count = n; buf = NULL; }
done:
    free(buf);
    if (mtype >= 0) H5Tclose(mtype);
    if (space >= 0) H5Sclose(space);
    if (ftype >= 0) H5Tclose(ftype);
    H5Aclose(a);
    return rc;
}

static hid_t open_dataset(int64_t file, const char *path, int *status) {
    int ex = h5s_object_exists(file, path);
    if (ex == 0) { *status = H5S_NOT_FOUND; return -1; }
    if (ex < 0) { *status = H5S_ERR; return -1; }
    H5O_info_t info;
    if (H5Oget_info_by_name((hid_t)file, path, &info, H5P_DEFAULT) < 0) { *status = H5S_ERR; return -1; }
    if (info.type != H5O_TYPE_DATASET) { *status = H5S_WRONG_TYPE; return -1; }
    hid_t d = H5Dopen2((hid_t)file, path, H5P_DEFAULT);
    *status = d < 0 ? H5S_ERR : H5S_OK;
    return d;
}

int h5s_dataset_info(int64_t file, const char *path, int *rank, int64_t *dims,
                     int *type_class, int *type_size) {
    int status;
    hid_t d = open_dataset(file, path, &status);
    if (d < 0) return status;
    int rc = H5S_ERR;
    hid_t space = H5Dget_space(d), type = H5Dget_type(d);
    if (space < 0 || type < 0) goto done;
    int r = H5Sget_simple_extent_ndims(space);
    if (r < 0) goto done;
    if (r > H5S_MAX_RANK) { rc = H5S_TOO_LARGE; goto done; }
    hsize_t hd[H5S_MAX_RANK];
    if (H5Sget_simple_extent_dims(space, hd, NULL) < 0) goto done;
    for (int i = 0; i < r; i++) dims[i] = (int64_t)hd[i];
    *rank = r;
    H5T_class_t cls = H5Tget_class(type);
    *type_class = cls == H5T_FLOAT ? 1 : (cls == H5T_INTEGER ? 2 : 0);
    *type_size = (int)H5Tget_size(type);
    rc = H5S_OK;
done:
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(d);
    return rc;
}

int h5s_dataset_read_f32(int64_t file, const char *path, float *out, size_t count) {
    int status;
    hid_t d = open_dataset(file, path, &status);
    if (d < 0) return status;
    int rc = H5S_ERR;
    hid_t space = H5Dget_space(d), type = H5Dget_type(d);
    if (space < 0 || type < 0) goto done;
    if (H5Tget_class(type) != H5T_FLOAT) { rc = H5S_WRONG_TYPE; goto done; }
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n < 0) goto done;
    if ((size_t)n != count) { rc = H5S_TOO_LARGE; goto done; }
    if (count == 0) { rc = H5S_OK; goto done; }
    /* libhdf5 converts any IEEE float width (float16 as written by h5py, float64) to float. */
    if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) goto done;
    rc = H5S_OK;
done:
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(d);
    return rc;
}

static hid_t intermediate_lcpl(void) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl >= 0) H5Pset_create_intermediate_group(lcpl, 1);
    return lcpl;
}

static hid_t half_type(void) {
    /* The layout h5py uses for numpy float16. */
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return t;
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    return t;
}

int h5s_write_dataset(int64_t file, const char *path, int rank, const int64_t *dims,
                      const float *data, int elem_bytes) {
    if (rank < 0 || rank > H5S_MAX_RANK) return H5S_TOO_LARGE;
    hsize_t hd[H5S_MAX_RANK];
    for (int i = 0; i < rank; i++) hd[i] = (hsize_t)dims[i];
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, hd, NULL);
    if (space < 0) return H5S_ERR;
    hid_t ftype;
    if (elem_bytes == 8) ftype = H5Tcopy(H5T_IEEE_F64LE);
    else if (elem_bytes == 2) ftype = half_type();
    else ftype = H5Tcopy(H5T_IEEE_F32LE);
    hid_t lcpl = intermediate_lcpl();
    int rc = H5S_ERR;
    hid_t d = H5Dcreate2((hid_t)file, path, ftype, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
        if (H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0) rc = H5S_OK;
        H5Dclose(d);
    }
    H5Pclose(lcpl);
    H5Tclose(ftype);
    H5Sclose(space);
    return rc;
}

int h5s_create_group(int64_t file, const char *path) {
    hid_t lcpl = intermediate_lcpl();
    hid_t g = H5Gcreate2((hid_t)file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    if (g < 0) return H5S_ERR;
    H5Gclose(g);
    return H5S_OK;
}

int h5s_write_attr_strings(int64_t file, const char *objpath, const char *attr,
                           const char *const *strings, size_t count, int mode) {
    hid_t obj = H5Oopen((hid_t)file, objpath, H5P_DEFAULT);
    if (obj < 0) return H5S_ERR;
    int rc = H5S_ERR;
    hid_t type = H5Tcopy(H5T_C_S1), space = -1, a = -1;
    if (mode == H5S_ATTR_SCALAR_VLEN) {
        if (count != 1) goto done;
        H5Tset_size(type, H5T_VARIABLE);
        H5Tset_cset(type, H5T_CSET_UTF8);
        space = H5Screate(H5S_SCALAR);
        a = H5Acreate2(obj, attr, type, space, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0 && H5Awrite(a, type, strings) >= 0) rc = H5S_OK;
    } else {
        size_t width = 1;
        for (size_t i = 0; i < count; i++) { size_t l = strlen(strings[i]); if (l > width) width = l; }
        char *raw = calloc(count ? count : 1, width);
        if (!raw) goto done;
        for (size_t i = 0; i < count; i++) memcpy(raw + i * width, strings[i], strlen(strings[i]));
        H5Tset_size(type, width);
        H5Tset_strpad(type, H5T_STR_NULLPAD);
        hsize_t n = count;
        if (mode == H5S_ATTR_SCALAR_FIXED && count != 1) { free(raw); goto done; }
        space = mode == H5S_ATTR_SCALAR_FIXED ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
        a = H5Acreate2(obj, attr, type, space, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0 && H5Awrite(a, type, raw) >= 0) rc = H5S_OK;
        free(raw);
    }
done:
    if (a >= 0) H5Aclose(a);
    if (space >= 0) H5Sclose(space);
    H5Tclose(type);
    H5Oclose(obj);
    return rc;
}
