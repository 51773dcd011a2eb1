#include <hdf5.h>
#include "h5shim.h"
int h5s_version(void) { unsigned a, b, c; H5get_libversion(&a, &b, &c); return (int)(a * 10000 + b * 100 + c); }
