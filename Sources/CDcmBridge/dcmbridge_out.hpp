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

// Encodes ff (Explicit VR Little Endian) into memory, then writes directory/filename through a temp file
// in the same directory, fsync and rename, so readers never see a half-written object.
void saveAtomically(DcmFileFormat &ff, const char *directory, const char *filename);

// Fills err with msg (truncated) and returns status.
int fail(char *err, size_t errlen, int status, const std::string &msg);

} // namespace dcmb_out
#endif
