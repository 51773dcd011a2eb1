// Internal C++ helpers shared by the SR and SC writers (not visible to Swift).
#ifndef DCMBRIDGE_OUT_HPP
#define DCMBRIDGE_OUT_HPP
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include <stdexcept>
#include <string>
#include "dcmbridge_sr.h"

namespace dcmb_out {

// A failure with the dcmb_write_status to return.
struct WriteError : std::runtime_error {
    int status;
    WriteError(int s, const std::string &m) : std::runtime_error(m), status(s) {}
};

inline bool present(const char *s) { return s != nullptr && *s != '\0'; }
inline std::string str(const char *s) { return s ? std::string(s) : std::string(); }
bool isASCII(const dcmb_context &c);

// Puts a string attribute; throws WriteError(INVALID_INPUT) naming the tag when DCMTK refuses it.
void put(DcmItem &item, const DcmTagKey &tag, const std::string &value);

// The one mapping of the source's patient and study attributes onto every output (SR, SCs, SEG): Patient,
// Patient Study, General Study, TimezoneOffsetFromUTC and SpecificCharacterSet.
void putPatientAndStudy(DcmItem &ds, const dcmb_context &c);

// SOP Common, Patient, General Study and General Series attributes of a new object in the source's study.
void putCommon(DcmItem &ds, const dcmb_context &c, const char *sopClassUID, const char *modality);

// Encodes ff (Explicit VR Little Endian) into memory, then writes directory/filename through a temp file
// in the same directory, fsync and rename, so readers never see a half-written object.
void saveAtomically(DcmFileFormat &ff, const char *directory, const char *filename);

// Fills err with msg (truncated) and returns status.
int fail(char *err, size_t errlen, int status, const std::string &msg);

// Runs a writer body (which returns a dcmb_write_status) and turns every exception into a status and a
// message naming target: no C++ exception may cross the C API.
template <class Body>
int guardedWrite(const std::string &target, char *err, size_t errlen, Body body) {
    try {
        return body();
    } catch (const WriteError &e) {
        return fail(err, errlen, e.status, e.status == DCMB_WRITE_INVALID_INPUT || e.status == DCMB_WRITE_ENCODING_ERROR
                                               ? target + ": " + e.what() : std::string(e.what()));
    } catch (const std::exception &e) {
        return fail(err, errlen, DCMB_WRITE_INTERNAL_ERROR, target + ": " + e.what());
    } catch (...) {
        return fail(err, errlen, DCMB_WRITE_INTERNAL_ERROR, target + ": unknown C++ exception");
    }
}

} // namespace dcmb_out
#endif
