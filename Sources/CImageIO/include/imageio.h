/* Plain C helpers over libpng and libjpeg for research image files and PNG previews. */
#ifndef BRIXIA_IMAGEIO_H
#define BRIXIA_IMAGEIO_H
#include <stddef.h>
#include <stdint.h>
int imgio_version(void);
#endif
