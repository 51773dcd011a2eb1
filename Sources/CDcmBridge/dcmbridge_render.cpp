// Read-back of rendered images (report page SC) as 8-bit RGB, for the web console's PNG.
#include "dcmtk/config/osconfig.h"   // must come first
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmimgle/dcmimage.h"
#include "dcmtk/dcmimage/diregist.h"  // colour image support
#include "dcmbridge_render.h"
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

static void renderErr(char *err, size_t errlen, const std::string &m) {
    if (err && errlen) { std::strncpy(err, m.c_str(), errlen - 1); err[errlen - 1] = 0; }
}

extern "C" int32_t dcmb_read_rgb8(const char *path, uint64_t max_pixels, uint8_t **out, int32_t *rows, int32_t *cols,
                                  char *err, size_t errlen) {
    *out = nullptr; *rows = 0; *cols = 0;
    try {
        DcmFileFormat ff;
        OFCondition st = ff.loadFile(path);
        if (st.bad()) { renderErr(err, errlen, std::string("cannot read: ") + st.text()); return -1; }
        DcmDataset *ds = ff.getDataset();
        Uint16 r = 0, c = 0;
        if (ds->findAndGetUint16(DCM_Rows, r).bad() || ds->findAndGetUint16(DCM_Columns, c).bad() || !r || !c) {
            renderErr(err, errlen, "no image (Rows/Columns missing)"); return -1;
        }
        if ((uint64_t)r * (uint64_t)c > max_pixels) { renderErr(err, errlen, "image too large"); return -1; }
        std::unique_ptr<DicomImage> img(new DicomImage(&ff, ds->getOriginalXfer(), CIF_UsePartialAccessToPixelData, 0, 1));
        if (img->getStatus() != EIS_Normal) {
            renderErr(err, errlen, std::string("cannot decode pixel data: ") + DicomImage::getString(img->getStatus()));
            return -1;
        }
        const bool mono = img->isMonochrome();
        if (mono) img->setMinMaxWindow();
        const unsigned long w = img->getWidth(), h = img->getHeight();
        const void *px = img->getOutputData(8, 0, 0);  // colour: interleaved RGB (planar = 0)
        if (!px) { renderErr(err, errlen, "cannot render pixel data"); return -1; }
        const size_t n = (size_t)w * h;
        uint8_t *buf = (uint8_t *)std::malloc(n * 3);
        if (!buf) { renderErr(err, errlen, "out of memory"); return -1; }
        const uint8_t *src = (const uint8_t *)px;
        if (mono) { for (size_t i = 0; i < n; i++) buf[3 * i] = buf[3 * i + 1] = buf[3 * i + 2] = src[i]; }
        else std::memcpy(buf, src, n * 3);
        *out = buf; *rows = (int32_t)h; *cols = (int32_t)w;
        return 0;
    } catch (...) {
        renderErr(err, errlen, "unexpected error while decoding");
        return -1;
    }
}

extern "C" void dcmb_free_rgb(uint8_t *p) { std::free(p); }
