#include "imageio.h"
int imgio_version(void) { return 1; }
