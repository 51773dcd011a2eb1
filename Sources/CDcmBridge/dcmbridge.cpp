#include "dcmtk/config/osconfig.h"   // must come first
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/oflog/oflog.h"
#include <mutex>
#include "dcmbridge.h"

static std::once_flag g_codecs_once;

extern "C" void dcmb_register_codecs(void) {
    std::call_once(g_codecs_once, [] {
        try {
            OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
            DJDecoderRegistration::registerCodecs();
            DJLSDecoderRegistration::registerCodecs();
            DcmRLEDecoderRegistration::registerCodecs();
        } catch (...) {
        }
    });
}
