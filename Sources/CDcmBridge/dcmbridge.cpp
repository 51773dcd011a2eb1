// DCMTK behind a plain C API (see include/dcmbridge.h). Every extern "C" body catches everything:
// an exception escaping into Swift would terminate the process.
#include "dcmtk/config/osconfig.h"   // must come first
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmimgle/dcmimage.h"
#include "dcmtk/oflog/oflog.h"
#include <openjpeg-2.5/openjpeg.h>
#include <zlib.h>
#include <iconv.h>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>
#include <cerrno>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "dcmbridge.h"

static std::once_flag g_codecs_once;

extern "C" void dcmb_register_codecs(void) {
    std::call_once(g_codecs_once, [] {
        try {
            OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
            // Tags that reached us as VR UN (a PACS that did not know them) are re-read with the dictionary's VR,
            // so Modality is "DX" and not the hex dump "44\58".
            dcmEnableUnknownVRConversion.set(OFTrue);
            DJDecoderRegistration::registerCodecs();
            DJLSDecoderRegistration::registerCodecs();
            DcmRLEDecoderRegistration::registerCodecs();
        } catch (...) {
        }
    });
}

struct dcmb_file {
    DcmFileFormat ff;
    bool hasMeta = false;
    E_TransferSyntax xfer = EXS_Unknown;
    std::string tsUID;
    // For JPEG 2000 only: a copy of the dataset with native (decoded) pixel data.
    std::unique_ptr<DcmDataset> native;
    // Set once the encapsulated pixel data has been decompressed in place (dcmb_decode_stored).
    bool decompressed = false;
    dcmb_limits limits{};
    // dcmb_check_pixels passed once; the decoders may then change the representation (decompression).
    bool pixelsChecked = false;
    // SpecificCharacterSet as the file declared it; the dataset itself is converted to UTF-8 on open.
    std::string declaredCharset;
    DcmDataset *ds() { return ff.getDataset(); }
    const DcmDataset *ds() const { return const_cast<DcmFileFormat &>(ff).getDataset(); }
};

static void setErr(char *err, size_t errlen, const std::string &msg) {
    if (!err || errlen == 0) return;
    size_t n = msg.size() < errlen - 1 ? msg.size() : errlen - 1;
    memcpy(err, msg.data(), n);
    err[n] = 0;
}

static bool isJ2K(E_TransferSyntax x) { return x == EXS_JPEG2000LosslessOnly || x == EXS_JPEG2000; }

static bool isSupportedXfer(E_TransferSyntax x) {
    switch (x) {
    case EXS_LittleEndianImplicit: case EXS_LittleEndianExplicit: case EXS_BigEndianExplicit:
    case EXS_DeflatedLittleEndianExplicit:
    case EXS_JPEGProcess1: case EXS_JPEGProcess2_4: case EXS_JPEGProcess14: case EXS_JPEGProcess14SV1:
    case EXS_JPEGLSLossless: case EXS_JPEGLSLossy: case EXS_RLELossless:
    case EXS_JPEG2000LosslessOnly: case EXS_JPEG2000:
        return true;
    default:
        return false;
    }
}

// A DICOM file has "DICM" at offset 128; a bare dataset (no preamble) starts with a low even group number.
static int32_t sniff(const char *path, char *err, size_t errlen) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        setErr(err, errlen, std::string("cannot open: ") + strerror(errno));
        return DCMB_ERR_IO;
    }
    unsigned char b[132];
    size_t n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    if (n == 132 && memcmp(b + 128, "DICM", 4) == 0) return DCMB_OK;
    if (n >= 8) {
        unsigned le = b[0] | (b[1] << 8), be = (b[0] << 8) | b[1];
        auto plausible = [](unsigned g) { return g >= 0x0002 && g <= 0x0028 && (g % 2) == 0; };
        if (plausible(le) || plausible(be)) return DCMB_OK;
    }
    setErr(err, errlen, "no DICM preamble and no DICOM dataset start (not a DICOM file)");
    return DCMB_ERR_NOT_DICOM;
}

// "8.0 GiB", "1.3 MiB", "1024 bytes": sizes in reasons are read by people.
static std::string bytesText(double n) {
    const char *units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
    if (n < 1024) return std::to_string((unsigned long long)n) + " bytes";
    int u = -1;
    while (n >= 1024 && u < 4) { n /= 1024; u++; }
    char b[64];
    snprintf(b, sizeof b, "%.1f %s", n, units[u]);
    return b;
}

// A Deflated Explicit VR Little Endian dataset is inflated by DCMTK while it is read, so its in-memory size is not
// bounded by the file size (1 MB can inflate to 1 GiB). Counts the inflated bytes in constant memory and
// returns false (with the reason) when they exceed `limit`. Files of other syntaxes pass untouched.
static bool deflatedSizeOK(const char *path, uint64_t limit, std::string &why) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return true;   // dcmb_open reports the I/O error itself
    std::unique_ptr<FILE, int (*)(FILE *)> guard(fp, fclose);
    unsigned char h[132];
    if (fread(h, 1, 132, fp) != 132 || memcmp(h + 128, "DICM", 4) != 0) return true;
    // Walk the File Meta (always Explicit VR Little Endian) for the transfer syntax and the dataset start.
    std::string ts;
    for (;;) {
        unsigned char e[12];
        long at = ftell(fp);
        if (fread(e, 1, 8, fp) != 8) return true;
        unsigned group = e[0] | (e[1] << 8), elem = e[2] | (e[3] << 8);
        if (group != 2) { fseek(fp, at, SEEK_SET); break; }
        uint32_t len;
        if ((e[4] == 'O' && e[5] == 'B') || (e[4] == 'U' && (e[5] == 'N' || e[5] == 'T')) || (e[4] == 'S' && e[5] == 'Q')) {
            if (fread(e + 8, 1, 4, fp) != 4) return true;
            len = e[8] | (e[9] << 8) | (e[10] << 16) | ((uint32_t)e[11] << 24);
        } else len = e[6] | (e[7] << 8);
        if (len > 1024) return true;   // not a plausible meta element: leave the diagnosis to DCMTK
        std::string v(len, '\0');
        if (len && fread(&v[0], 1, len, fp) != len) return true;
        if (elem == 0x0010) ts = v.c_str();
    }
    while (!ts.empty() && (ts.back() == ' ' || ts.back() == '\0')) ts.pop_back();
    if (ts != "1.2.840.10008.1.2.1.99") return true;
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return true;
    std::vector<unsigned char> in(1 << 16), out(1 << 16);
    uint64_t total = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        z.avail_in = (uInt)fread(in.data(), 1, in.size(), fp);
        if (z.avail_in == 0) break;
        z.next_in = in.data();
        while (z.avail_in > 0 && rc != Z_STREAM_END) {
            z.next_out = out.data(); z.avail_out = (uInt)out.size();
            rc = inflate(&z, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END) { inflateEnd(&z); return true; }   // corrupt: DCMTK reports it
            total += out.size() - z.avail_out;
            if (total > limit) {
                inflateEnd(&z);
                why = "the deflated dataset inflates to more than " + bytesText((double)limit) + ", the limit for DICOM input";
                return false;
            }
        }
    }
    inflateEnd(&z);
    return true;
}

// ---- Japanese ISO 2022 (IR 13/87/159) ----
// DCMTK hands ISO 2022 IR 87 and IR 159 to iconv as "ISO-IR-87"/"ISO-IR-159", names glibc's iconv does not
// know, so Debian's DCMTK cannot convert Japanese names. These sets are decoded here instead: the escape
// sequences of PS3.5 6.1.2.5 select the code element, the bytes are re-encoded as EUC-JP (same repertoire,
// no escapes) and glibc converts that to UTF-8. Anything outside the declared elements is an error.

static std::vector<std::string> charsetTerms(const std::string &declared) {
    std::vector<std::string> terms;
    size_t start = 0;
    for (;;) {
        size_t end = declared.find('\\', start);
        std::string t = declared.substr(start, end == std::string::npos ? std::string::npos : end - start);
        while (!t.empty() && (t.back() == ' ' || t.back() == '\0')) t.pop_back();
        while (!t.empty() && t.front() == ' ') t.erase(t.begin());
        terms.push_back(t);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return terms;
}

// True when every term is one of the Japanese ISO 2022 family and IR 87 or IR 159 is among them.
static bool isJapanese2022(const std::vector<std::string> &terms) {
    bool kanji = false;
    for (const std::string &t : terms) {
        if (t == "ISO 2022 IR 87" || t == "ISO 2022 IR 159") kanji = true;
        else if (!(t.empty() || t == "ISO 2022 IR 6" || t == "ISO 2022 IR 13" || t == "ISO_IR 13")) return false;
    }
    return kanji;
}

// One value in the Japanese ISO 2022 sets -> UTF-8; false (with why) on a byte the declared elements cannot hold.
static bool japaneseToUTF8(const std::string &in, std::string &out, std::string &why) {
    enum G0 { ASCII, JIS0208, JIS0212 } g0 = ASCII;
    std::string euc;
    for (size_t i = 0; i < in.size();) {
        unsigned char b = (unsigned char)in[i];
        if (b == 0x1B) {
            std::string seq = in.substr(i + 1, 3);
            if (seq.compare(0, 2, "(B") == 0 || seq.compare(0, 2, "(J") == 0) { g0 = ASCII; i += 3; continue; }
            if (seq.compare(0, 2, "$B") == 0 || seq.compare(0, 2, "$@") == 0) { g0 = JIS0208; i += 3; continue; }
            if (seq.compare(0, 3, "$(D") == 0) { g0 = JIS0212; i += 4; continue; }
            if (seq.compare(0, 2, ")I") == 0) { i += 3; continue; }   // G1 katakana: bytes 0xA1-0xDF below
            why = "unsupported escape sequence in a Japanese ISO 2022 value";
            return false;
        }
        // Control characters return G0 to ASCII (PS3.5 6.1.2.5.3). "^", "=" and "\\" do only in ASCII: encoders
        // switch back before them, and inside a two-byte run they are data bytes (e.g. "$^" is one kana).
        if (b < 0x21 && b != 0x1B) { g0 = ASCII; euc += (char)b; i++; continue; }
        if (b >= 0xA1 && b <= 0xDF) { euc += (char)0x8E; euc += (char)b; i++; continue; }   // JIS X 0201 katakana
        if (b >= 0x80) { why = "byte outside the declared Japanese character sets"; return false; }
        if (g0 == ASCII) { euc += (char)b; i++; continue; }
        if (i + 1 >= in.size()) { why = "truncated two-byte character"; return false; }
        unsigned char b2 = (unsigned char)in[i + 1];
        if (b < 0x21 || b > 0x7E || b2 < 0x21 || b2 > 0x7E) { why = "invalid two-byte character"; return false; }
        if (g0 == JIS0212) euc += (char)0x8F;
        euc += (char)(b | 0x80); euc += (char)(b2 | 0x80);
        i += 2;
    }
    iconv_t cd = iconv_open("UTF-8", "EUC-JP");
    if (cd == (iconv_t)-1) { why = "iconv has no EUC-JP"; return false; }
    std::vector<char> buf(euc.size() * 4 + 16);
    char *src = &euc[0], *dst = buf.data();
    size_t inLeft = euc.size(), outLeft = buf.size();
    size_t r = euc.empty() ? 0 : iconv(cd, &src, &inLeft, &dst, &outLeft);
    iconv_close(cd);
    if (r == (size_t)-1) { why = std::string("invalid JIS character: ") + strerror(errno); return false; }
    out.assign(buf.data(), buf.size() - outLeft);
    return true;
}

static bool convertsWithCharset(DcmEVR vr) {
    return vr == EVR_PN || vr == EVR_LO || vr == EVR_SH || vr == EVR_ST || vr == EVR_LT || vr == EVR_UT || vr == EVR_UC;
}

// Calls body(element, raw value) for every non-empty text value affected by the character set, sequences
// included; stops at the first false, with why prefixed by the element's name.
template <class Body>
static bool eachTextValue(DcmDataset &ds, std::string &why, Body body) {
    DcmStack stack;
    while (ds.nextObject(stack, OFTrue).good()) {
        DcmObject *obj = stack.top();
        if (!obj || !convertsWithCharset(obj->ident())) continue;
        DcmElement *el = OFstatic_cast(DcmElement *, obj);
        char *raw = nullptr;
        Uint32 len = 0;
        if (el->getString(raw, len).bad() || !raw || len == 0) continue;
        if (!body(el, std::string(raw, len))) {
            why = std::string(DcmTag(el->getTag()).getTagName()) + ": " + why;
            return false;
        }
    }
    return true;
}

// Converts every text value of the dataset from the Japanese ISO 2022 sets.
static bool japaneseDatasetToUTF8(DcmDataset &ds, std::string &why) {
    bool ok = eachTextValue(ds, why, [&why](DcmElement *el, const std::string &in) {
        std::string out;
        if (!japaneseToUTF8(in, out, why)) return false;
        if (out != in && el->putString(out.c_str(), (Uint32)out.size()).bad()) { why = "cannot store the converted value"; return false; }
        return true;
    });
    return ok && ds.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192").good();
}

// Well-formed UTF-8 (no overlong forms, surrogates or values above U+10FFFF).
static bool validUTF8(const std::string &v) {
    const unsigned char *p = (const unsigned char *)v.data(), *end = p + v.size();
    while (p < end) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
        if (n == 9 || n > (size_t)(end - p - 1)) return false;   // bad lead byte, or truncated sequence
        unsigned cp = n == 0 ? c : c & (0x3F >> n);
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        p += n + 1;
    }
    return true;
}

// A dataset declared ISO_IR 192 needs no conversion, but its text must be UTF-8: invalid bytes would reach the
// reports as replacement characters.
static bool checkUTF8Dataset(DcmDataset &ds, std::string &why) {
    return eachTextValue(ds, why, [&why](DcmElement *, const std::string &v) {
        if (validUTF8(v)) return true;
        why = "bytes that are not UTF-8";
        return false;
    });
}

// Converts every text value to UTF-8 (the dataset then declares ISO_IR 192), remembering the declared set.
// A set DCMTK cannot convert, or bytes that are invalid in the declared set, fail: names are never guessed.
static bool toUTF8(dcmb_file &f, char *err, size_t errlen) {
    OFString cs;
    if (f.ds()->findAndGetOFStringArray(DCM_SpecificCharacterSet, cs, OFFalse).good()) f.declaredCharset = cs.c_str();
    std::string trimmed = f.declaredCharset;
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\0')) trimmed.pop_back();
    // Absent or ASCII: nothing to convert (the Swift side keeps its lenient reading of undeclared bytes).
    if (trimmed.empty() || trimmed == "ISO_IR 6") return true;
    std::string detail;
    if (trimmed == "ISO_IR 192") {
        if (checkUTF8Dataset(*f.ds(), detail)) return true;
    } else if (isJapanese2022(charsetTerms(trimmed))) {
        if (japaneseDatasetToUTF8(*f.ds(), detail)) return true;
    } else {
        OFCondition c = f.ds()->convertToUTF8();
        if (c.good()) return true;
        detail = c.text();
    }
    std::string shown;
    for (size_t i = 0; i < trimmed.size() && i < 64; i++) {
        unsigned char ch = (unsigned char)trimmed[i];
        if (ch >= 0x20 && ch < 0x7F) shown += (char)ch; else { char b[8]; snprintf(b, sizeof b, "\\x%02x", ch); shown += b; }
    }
    setErr(err, errlen, "cannot convert Specific Character Set '" + shown + "' to Unicode: " + detail);
    return false;
}

extern "C" dcmb_file *dcmb_open(const char *path, int32_t *status, char *err, size_t errlen) {
    return dcmb_open_limited(path, nullptr, status, err, errlen);
}

extern "C" dcmb_file *dcmb_open_limited(const char *path, const dcmb_limits *limits, int32_t *status, char *err,
                                        size_t errlen) {
    int32_t dummy = 0;
    if (!status) status = &dummy;
    try {
        dcmb_register_codecs();
        if (!path) { *status = DCMB_ERR_INTERNAL; setErr(err, errlen, "null path"); return nullptr; }
        int32_t s = sniff(path, err, errlen);
        if (s != DCMB_OK) { *status = s; return nullptr; }
        std::unique_ptr<dcmb_file> f(new dcmb_file());
        if (limits) f->limits = *limits;
        // The whole file is loaded into memory below: refuse oversized files before DCMTK reads a byte.
        struct stat st;
        if (stat(path, &st) != 0) {
            *status = DCMB_ERR_IO; setErr(err, errlen, std::string("cannot open: ") + strerror(errno));
            return nullptr;
        }
        if (f->limits.max_file_bytes && (uint64_t)st.st_size > f->limits.max_file_bytes) {
            *status = DCMB_ERR_LIMIT;
            setErr(err, errlen, "file is " + bytesText((double)st.st_size) + ", over the limit of " +
                                    bytesText((double)f->limits.max_file_bytes) + " for DICOM input");
            return nullptr;
        }
        std::string why;
        if (f->limits.max_file_bytes && !deflatedSizeOK(path, f->limits.max_file_bytes, why)) {
            *status = DCMB_ERR_LIMIT; setErr(err, errlen, why);
            return nullptr;
        }
        OFCondition c = f->ff.loadFile(OFFilename(path), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
        if (c.good()) c = f->ff.loadAllDataIntoMemory();   // later reads must not touch the file again
        if (c.bad()) {
            std::string text = c.text();
            if (c == EC_StreamNotifyClient || c == EC_EndOfStream || text.find("end of") != std::string::npos ||
                text.find("Premature") != std::string::npos) {
                *status = DCMB_ERR_TRUNCATED;
                setErr(err, errlen, "truncated: " + text);
                return nullptr;
            }
            // An unknown transfer syntax in the File Meta makes the dataset unparsable; say so precisely.
            DcmFileFormat meta;
            if (meta.loadFile(OFFilename(path), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_metaOnly).good()) {
                OFString ts;
                if (meta.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts).good() &&
                    !isSupportedXfer(DcmXfer(ts.c_str()).getXfer())) {
                    *status = DCMB_ERR_UNSUPPORTED_TS;
                    setErr(err, errlen, "unsupported transfer syntax " + std::string(ts.c_str()));
                    return nullptr;
                }
            }
            *status = DCMB_ERR_PARSE;
            setErr(err, errlen, "cannot parse DICOM: " + text);
            return nullptr;
        }
        if (!toUTF8(*f, err, errlen)) { *status = DCMB_ERR_CHARSET; return nullptr; }
        OFString ts;
        f->hasMeta = f->ff.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts).good() && !ts.empty();
        f->xfer = f->ds()->getOriginalXfer();
        if (f->hasMeta) f->tsUID = ts.c_str();
        else f->tsUID = DcmXfer(f->xfer).getXferID();
        *status = DCMB_OK;
        return f.release();
    } catch (const std::exception &e) {
        *status = DCMB_ERR_INTERNAL; setErr(err, errlen, std::string("internal error: ") + e.what());
    } catch (...) {
        *status = DCMB_ERR_INTERNAL; setErr(err, errlen, "internal error");
    }
    return nullptr;
}

extern "C" void dcmb_close(dcmb_file *f) {
    try { delete f; } catch (...) {}
}

extern "C" int32_t dcmb_has_meta(const dcmb_file *f) { return f && f->hasMeta ? 1 : 0; }

extern "C" int32_t dcmb_declared_charset(const dcmb_file *f, char *buf, size_t len) {
    if (!f) return -1;
    try {
        setErr(buf, len, f->declaredCharset);
        return (int32_t)f->declaredCharset.size();
    } catch (...) { return -1; }
}

extern "C" int32_t dcmb_transfer_syntax(const dcmb_file *f, char *buf, size_t len) {
    if (!f) return -1;
    try {
        setErr(buf, len, f->tsUID);
        return (int32_t)f->tsUID.size();
    } catch (...) { return -1; }
}

static DcmElement *findTop(const dcmb_file *f, uint16_t g, uint16_t e) {
    DcmElement *el = nullptr;
    DcmDataset *ds = const_cast<dcmb_file *>(f)->ds();
    if (ds->findAndGetElement(DcmTagKey(g, e), el, OFFalse).bad()) return nullptr;
    return el;
}

// The whole value of el into buf (truncated); returns the full length, 0 when it has no string form.
static int32_t copyValue(DcmElement *el, char *buf, size_t len) {
    OFString v;
    if (el->getOFStringArray(v).bad()) return 0;
    std::string s(v.c_str(), v.size());
    setErr(buf, len, s);
    return (int32_t)s.size();
}

extern "C" int32_t dcmb_get_string(const dcmb_file *f, uint16_t group, uint16_t element, char *buf, size_t len) {
    if (buf && len) buf[0] = 0;
    if (!f) return -1;
    try {
        DcmElement *el = findTop(f, group, element);
        return el ? copyValue(el, buf, len) : -1;
    } catch (...) { return -1; }
}

extern "C" int32_t dcmb_value_count(const dcmb_file *f, uint16_t group, uint16_t element) {
    if (!f) return -1;
    try {
        DcmElement *el = findTop(f, group, element);
        if (!el) return -1;
        return el->getLength() == 0 ? 0 : (int32_t)el->getVM();
    } catch (...) { return -1; }
}

extern "C" int32_t dcmb_get_number(const dcmb_file *f, uint16_t group, uint16_t element, uint32_t idx, double *out) {
    if (!f || !out) return 0;
    try {
        DcmElement *el = findTop(f, group, element);
        if (!el || el->getLength() == 0) return 0;
        Float64 d;
        switch (el->ident()) {
        case EVR_US: { Uint16 v; if (el->getUint16(v, idx).bad()) return 0; *out = v; return 1; }
        case EVR_SS: { Sint16 v; if (el->getSint16(v, idx).bad()) return 0; *out = v; return 1; }
        case EVR_UL: { Uint32 v; if (el->getUint32(v, idx).bad()) return 0; *out = v; return 1; }
        case EVR_SL: { Sint32 v; if (el->getSint32(v, idx).bad()) return 0; *out = v; return 1; }
        case EVR_IS: { Sint32 v; if (el->getSint32(v, idx).bad()) return 0; *out = v; return 1; }
        case EVR_FL: { Float32 v; if (el->getFloat32(v, idx).bad()) return 0; *out = v; return 1; }
        default:
            if (el->getFloat64(d, idx).good()) { *out = d; return 1; }
            {
                OFString s;
                if (el->getOFString(s, idx).bad()) return 0;
                char *end = nullptr;
                double v = strtod(s.c_str(), &end);
                if (end == s.c_str()) return 0;
                *out = v;
                return 1;
            }
        }
    } catch (...) { return 0; }
}

extern "C" int32_t dcmb_sequence_count(const dcmb_file *f, uint16_t group, uint16_t element) {
    if (!f) return -1;
    try {
        DcmSequenceOfItems *seq = nullptr;
        DcmDataset *ds = const_cast<dcmb_file *>(f)->ds();
        if (ds->findAndGetSequence(DcmTagKey(group, element), seq, OFFalse).bad() || !seq) return -1;
        return (int32_t)seq->card();
    } catch (...) { return -1; }
}

extern "C" int32_t dcmb_get_item_string(const dcmb_file *f, uint16_t seqGroup, uint16_t seqElement, uint32_t index,
                                        uint16_t group, uint16_t element, char *buf, size_t len) {
    if (buf && len) buf[0] = 0;
    if (!f) return -1;
    try {
        DcmSequenceOfItems *seq = nullptr;
        DcmDataset *ds = const_cast<dcmb_file *>(f)->ds();
        if (ds->findAndGetSequence(DcmTagKey(seqGroup, seqElement), seq, OFFalse).bad() || !seq) return -1;
        if (index >= seq->card()) return -1;
        DcmItem *item = seq->getItem(index);
        DcmElement *el = nullptr;
        if (!item || item->findAndGetElement(DcmTagKey(group, element), el, OFFalse).bad() || !el) return -1;
        return copyValue(el, buf, len);
    } catch (...) { return -1; }
}

static DcmPixelData *pixelData(DcmDataset *ds) {
    DcmElement *el = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, el, OFFalse).bad() || !el) return nullptr;
    if (el->ident() != EVR_PixelData) return nullptr;
    return OFstatic_cast(DcmPixelData *, el);
}

extern "C" void dcmb_pixel_info(const dcmb_file *f, int32_t *present, int32_t *encapsulated, uint64_t *native_length) {
    int32_t p = 0, e = 0; uint64_t n = 0;
    try {
        if (f) {
            DcmDataset *ds = const_cast<dcmb_file *>(f)->ds();
            DcmElement *el = nullptr;
            if (ds->findAndGetElement(DCM_PixelData, el, OFFalse).good() && el) {
                p = 1;
                DcmXfer x(f->xfer);
                e = x.isEncapsulated() ? 1 : 0;
                if (el->ident() == EVR_PixelData) {
                    DcmPixelSequence *seq = nullptr;
                    DcmPixelData *pd = OFstatic_cast(DcmPixelData *, el);
                    if (pd->getEncapsulatedRepresentation(f->xfer, nullptr, seq).good() && seq) e = 1;
                }
                if (!e) n = el->getLength();
            }
        }
    } catch (...) {}
    if (present) *present = p;
    if (encapsulated) *encapsulated = e;
    if (native_length) *native_length = n;
}

// ---- checks shared by all decoders ----

static double num(const dcmb_file *f, DcmTagKey k, double def) {
    double v;
    return dcmb_get_number(f, k.getGroup(), k.getElement(), 0, &v) ? v : def;
}

// A header value quoted in a reason: printable ASCII only (hostile headers must not forge log lines), bounded.
static std::string quoted(const dcmb_file *f, DcmTagKey k) {
    DcmElement *el = findTop(f, k.getGroup(), k.getElement());
    if (!el) return "absent";
    OFString v;
    if (el->getOFStringArray(v).bad()) return "unreadable";
    std::string out = "'";
    for (size_t i = 0; i < v.size() && i < 32; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch >= 0x20 && ch < 0x7F && ch != '\\') out += (char)ch;
        else { char b[8]; snprintf(b, sizeof b, "\\x%02x", ch); out += b; }
    }
    if (v.size() > 32) out += "...";
    return out + "'";
}

// Strict integer attribute: -1 absent or empty, 0 present but not an integer, 1 ok.
static int intAttr(const dcmb_file *f, DcmTagKey k, long long &out) {
    DcmElement *el = findTop(f, k.getGroup(), k.getElement());
    if (!el || el->getLength() == 0) return -1;
    double v = 0;
    if (!dcmb_get_number(f, k.getGroup(), k.getElement(), 0, &v)) return 0;
    if (!std::isfinite(v) || v != std::floor(v) || v < -2147483648.0 || v > 4294967295.0) return 0;
    out = (long long)v;
    return 1;
}

static int32_t checkPixels(dcmb_file *f, char *err, size_t errlen) {
    if (f->pixelsChecked) return DCMB_OK;
    DcmElement *el = nullptr;
    if (f->ds()->findAndGetElement(DCM_PixelData, el, OFFalse).bad() || !el) return DCMB_OK;
    auto fail = [&](int32_t code, const std::string &m) { setErr(err, errlen, m); return code; };
    auto bad = [&](const char *name, DcmTagKey k) {
        return fail(DCMB_ERR_BAD_GEOMETRY, std::string("invalid ") + name + " " + quoted(f, k));
    };
    long long rows = 0, cols = 0, frames = 1, ba = 0, bs = 0, hb = 0, spp = 1, pr = 0, pc = 0;
    if (intAttr(f, DCM_Rows, rows) != 1 || rows < 1 || rows > 65535) return bad("Rows", DCM_Rows);
    if (intAttr(f, DCM_Columns, cols) != 1 || cols < 1 || cols > 65535) return bad("Columns", DCM_Columns);
    int r = intAttr(f, DCM_NumberOfFrames, frames);
    if (r == 0 || (r == 1 && frames < 1)) return bad("NumberOfFrames", DCM_NumberOfFrames);
    if (intAttr(f, DCM_BitsAllocated, ba) != 1 || !(ba == 1 || ba == 8 || ba == 16 || ba == 24 || ba == 32))
        return bad("BitsAllocated", DCM_BitsAllocated);
    r = intAttr(f, DCM_BitsStored, bs);
    if (r == -1) bs = ba;
    if (r == 0 || bs < 1 || bs > ba) return bad("BitsStored", DCM_BitsStored);
    r = intAttr(f, DCM_HighBit, hb);
    if (r == 0 || (r == 1 && (hb < bs - 1 || hb > ba - 1))) return bad("HighBit", DCM_HighBit);
    r = intAttr(f, DCM_SamplesPerPixel, spp);
    if (r == 0 || spp < 1 || spp > 4) return bad("SamplesPerPixel", DCM_SamplesPerPixel);
    r = intAttr(f, DCM_PixelRepresentation, pr);
    if (r == 0 || pr < 0 || pr > 1) return bad("PixelRepresentation", DCM_PixelRepresentation);
    r = intAttr(f, DCM_PlanarConfiguration, pc);
    if (spp > 1 && (r == 0 || pc < 0 || pc > 1)) return bad("PlanarConfiguration", DCM_PlanarConfiguration);

    const std::string declared = std::to_string(cols) + "x" + std::to_string(rows) + "x" + std::to_string(frames) +
                                 (spp > 1 ? "x" + std::to_string(spp) + " samples" : "") + " " + std::to_string(ba) + "-bit";
    DcmXfer x(f->xfer);
    DcmPixelSequence *seq = nullptr;
    bool encapsulated = x.isEncapsulated() && el->ident() == EVR_PixelData &&
                        OFstatic_cast(DcmPixelData *, el)->getEncapsulatedRepresentation(f->xfer, nullptr, seq).good() && seq;
    if (!encapsulated) {
        if (x.isEncapsulated())
            return fail(DCMB_ERR_BAD_GEOMETRY, "Pixel Data is not encapsulated although the transfer syntax " +
                                                   f->tsUID + " is compressed");
        // 4:2:2 YCbCr stores two values per pixel instead of three.
        OFString pi;
        f->ds()->findAndGetOFString(DCM_PhotometricInterpretation, pi);
        long long values = (spp == 3 && (pi == "YBR_FULL_422" || pi == "YBR_PARTIAL_422")) ? 2 : spp;
        // At most 65535^2 x 2^31 x 4 x 32 bits: fits a double exactly enough to compare, and never overflows.
        double need = std::ceil((double)rows * (double)cols * (double)frames * (double)values * (double)ba / 8.0);
        double have = (double)el->getLength();
        if (have < need)
            return fail(DCMB_ERR_PIXEL_SHORT, "pixel data too short: declared " + declared + " = " + bytesText(need) +
                                                  " but Pixel Data holds " + bytesText(have));
        if (have > need + 1)   // one pad byte keeps an odd length even
            return fail(DCMB_ERR_BAD_GEOMETRY, "pixel data longer than declared: " + declared + " = " + bytesText(need) +
                                                   " but Pixel Data holds " + bytesText(have));
    } else {
        // Each frame is at least one fragment (PS3.5 A.4); item 0 is the Basic Offset Table.
        unsigned long fragments = seq->card() > 0 ? seq->card() - 1 : 0;
        double bytes = 0;
        for (unsigned long i = 1; i < seq->card(); i++) {
            DcmPixelItem *item = nullptr;
            if (seq->getItem(item, i).good() && item) bytes += item->getLength();
        }
        if (fragments == 0 || bytes == 0)
            return fail(DCMB_ERR_BAD_GEOMETRY, "encapsulated Pixel Data holds no compressed data (declared " + declared + ")");
        if ((double)fragments < (double)frames)
            return fail(DCMB_ERR_BAD_GEOMETRY, "declared " + std::to_string(frames) + " frames but the encapsulated Pixel Data has " +
                                                   std::to_string(fragments) + " fragments");
    }
    const dcmb_limits &L = f->limits;
    if ((L.max_rows && rows > L.max_rows) || (L.max_columns && cols > L.max_columns))
        return fail(DCMB_ERR_LIMIT, "declared image size " + std::to_string(cols) + "x" + std::to_string(rows) +
                                        " is over the limit of " + std::to_string(L.max_columns) + "x" + std::to_string(L.max_rows));
    if (L.max_frames && frames > L.max_frames)
        return fail(DCMB_ERR_LIMIT, "declared " + std::to_string(frames) + " frames, over the limit of " + std::to_string(L.max_frames));
    double pixels = (double)rows * (double)cols * (double)frames;
    if (L.max_pixels && pixels > (double)L.max_pixels)
        return fail(DCMB_ERR_LIMIT, "declared " + declared + " = " + std::to_string((unsigned long long)pixels) +
                                        " pixels, over the limit of " + std::to_string(L.max_pixels));
    f->pixelsChecked = true;
    return DCMB_OK;
}

extern "C" int32_t dcmb_check_pixels(const dcmb_file *f, char *err, size_t errlen) {
    if (!f) { setErr(err, errlen, "null argument"); return DCMB_ERR_INTERNAL; }
    try { return checkPixels(const_cast<dcmb_file *>(f), err, errlen); }
    catch (const std::exception &e) { setErr(err, errlen, std::string("internal error: ") + e.what()); }
    catch (...) { setErr(err, errlen, "internal error"); }
    return DCMB_ERR_INTERNAL;
}

static int32_t checkDecodable(dcmb_file *f, char *err, size_t errlen) {
    int32_t present = 0, enc = 0; uint64_t len = 0;
    dcmb_pixel_info(f, &present, &enc, &len);
    if (!present) { setErr(err, errlen, "no Pixel Data (7FE0,0010)"); return DCMB_ERR_NO_PIXEL_DATA; }
    // DCMTK falls back to a detected syntax when the File Meta names an unknown one; we refuse instead,
    // since the pixel data may be in an encoding we cannot know.
    if (!isSupportedXfer(f->xfer) || (f->hasMeta && !isSupportedXfer(DcmXfer(f->tsUID.c_str()).getXfer()))) {
        setErr(err, errlen, "unsupported transfer syntax " + f->tsUID);
        return DCMB_ERR_UNSUPPORTED_TS;
    }
    int32_t geometry = checkPixels(f, err, errlen);
    if (geometry != DCMB_OK) return geometry;
    double frames = num(f, DCM_NumberOfFrames, 1);
    if (frames > 1) { setErr(err, errlen, "multi-frame image (" + std::to_string((long)frames) + " frames)"); return DCMB_ERR_MULTIFRAME; }
    OFString pi;
    f->ds()->findAndGetOFString(DCM_PhotometricInterpretation, pi);
    double spp = num(f, DCM_SamplesPerPixel, 1);
    if (spp != 1 || (pi != "MONOCHROME1" && pi != "MONOCHROME2")) {
        setErr(err, errlen, "not a monochrome image (PhotometricInterpretation '" + std::string(pi.c_str()) +
                                "', SamplesPerPixel " + std::to_string((int)spp) + ")");
        return DCMB_ERR_COLOUR;
    }
    double rows = num(f, DCM_Rows, 0), cols = num(f, DCM_Columns, 0);
    double ba = num(f, DCM_BitsAllocated, 0), bs = num(f, DCM_BitsStored, ba);
    if (rows < 1 || cols < 1 || rows > 65535 || cols > 65535 || (ba != 8 && ba != 16) || bs < 1 || bs > ba) {
        setErr(err, errlen, "invalid image geometry (rows " + std::to_string((long)rows) + ", columns " +
                                std::to_string((long)cols) + ", bits allocated " + std::to_string((long)ba) +
                                ", bits stored " + std::to_string((long)bs) + ")");
        return DCMB_ERR_BAD_GEOMETRY;
    }
    if (!enc) {
        uint64_t need = (uint64_t)rows * (uint64_t)cols * (uint64_t)(ba / 8);
        if (len < need) {
            setErr(err, errlen, "pixel data too short (" + std::to_string(len) + " bytes, expected " +
                                    std::to_string(need) + ")");
            return DCMB_ERR_PIXEL_SHORT;
        }
    }
    return DCMB_OK;
}

extern "C" int32_t dcmb_check_decodable(dcmb_file *f, char *err, size_t errlen) {
    if (!f) { setErr(err, errlen, "null argument"); return DCMB_ERR_INTERNAL; }
    try { return checkDecodable(f, err, errlen); }
    catch (const std::exception &e) { setErr(err, errlen, std::string("internal error: ") + e.what()); }
    catch (...) { setErr(err, errlen, "internal error"); }
    return DCMB_ERR_INTERNAL;
}

// ---- JPEG 2000 through OpenJPEG (DCMTK's free edition has no J2K codec) ----

struct MemStream { const uint8_t *data; size_t size; size_t pos; };
static OPJ_SIZE_T msRead(void *buf, OPJ_SIZE_T n, void *u) {
    MemStream *m = (MemStream *)u;
    if (m->pos >= m->size) return (OPJ_SIZE_T)-1;
    size_t k = n < m->size - m->pos ? n : m->size - m->pos;
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return k;
}
static OPJ_OFF_T msSkip(OPJ_OFF_T n, void *u) {
    MemStream *m = (MemStream *)u;
    if (n < 0) { size_t back = (size_t)(-n) < m->pos ? (size_t)(-n) : m->pos; m->pos -= back; return -(OPJ_OFF_T)back; }
    size_t k = (size_t)n < m->size - m->pos ? (size_t)n : m->size - m->pos;
    m->pos += k;
    return (OPJ_OFF_T)k;
}
static OPJ_BOOL msSeek(OPJ_OFF_T off, void *u) {
    MemStream *m = (MemStream *)u;
    if (off < 0 || (size_t)off > m->size) return OPJ_FALSE;
    m->pos = (size_t)off;
    return OPJ_TRUE;
}
static void opjQuiet(const char *, void *) {}

static int32_t decodeJ2K(dcmb_file *f, char *err, size_t errlen) {
    if (f->native) return DCMB_OK;
    DcmPixelData *pd = pixelData(f->ds());
    DcmPixelSequence *seq = nullptr;
    if (!pd || pd->getEncapsulatedRepresentation(f->xfer, nullptr, seq).bad() || !seq) {
        setErr(err, errlen, "JPEG 2000: no encapsulated pixel data"); return DCMB_ERR_DECODE;
    }
    std::vector<uint8_t> code;
    for (unsigned long i = 1; i < seq->card(); i++) {   // item 0 is the Basic Offset Table
        DcmPixelItem *item = nullptr;
        if (seq->getItem(item, i).bad() || !item) continue;
        Uint8 *d = nullptr;
        if (item->getUint8Array(d).bad() || !d) continue;
        code.insert(code.end(), d, d + item->getLength());
    }
    if (code.size() < 4) { setErr(err, errlen, "JPEG 2000: empty code stream"); return DCMB_ERR_DECODE; }
    bool raw = code[0] == 0xFF && code[1] == 0x4F;
    opj_codec_t *codec = opj_create_decompress(raw ? OPJ_CODEC_J2K : OPJ_CODEC_JP2);
    opj_set_error_handler(codec, opjQuiet, nullptr);
    opj_set_warning_handler(codec, opjQuiet, nullptr);
    opj_set_info_handler(codec, opjQuiet, nullptr);
    opj_dparameters_t p;
    opj_set_default_decoder_parameters(&p);
    opj_image_t *img = nullptr;
    MemStream ms{code.data(), code.size(), 0};
    opj_stream_t *st = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
    opj_stream_set_user_data(st, &ms, nullptr);
    opj_stream_set_user_data_length(st, code.size());
    opj_stream_set_read_function(st, msRead);
    opj_stream_set_skip_function(st, msSkip);
    opj_stream_set_seek_function(st, msSeek);
    unsigned long rows = (unsigned long)num(f, DCM_Rows, 0), cols = (unsigned long)num(f, DCM_Columns, 0);
    bool ok = opj_setup_decoder(codec, &p) && opj_read_header(st, codec, &img);
    // The code stream's own size decides what OpenJPEG allocates: it must match the checked DICOM header first.
    bool sizeOK = ok && img && img->numcomps >= 1 && img->x1 > img->x0 && img->y1 > img->y0 &&
                  (unsigned long)(img->x1 - img->x0) == cols && (unsigned long)(img->y1 - img->y0) == rows;
    bool oneComponent = ok && img && img->numcomps == 1;
    if (sizeOK && oneComponent) ok = opj_decode(codec, st, img) && opj_end_decompress(codec, st);
    opj_stream_destroy(st);
    opj_destroy_codec(codec);
    std::unique_ptr<opj_image_t, void (*)(opj_image_t *)> guard(img, [](opj_image_t *i) { if (i) opj_image_destroy(i); });
    if (!ok || !img) { setErr(err, errlen, "JPEG 2000 decoding failed"); return DCMB_ERR_DECODE; }
    if (!oneComponent) { setErr(err, errlen, "JPEG 2000 image is not single-component"); return DCMB_ERR_COLOUR; }
    if (!sizeOK) {
        setErr(err, errlen, "JPEG 2000 code stream is " + std::to_string((long)img->x1 - (long)img->x0) + "x" +
                                std::to_string((long)img->y1 - (long)img->y0) + " but the header declares " +
                                std::to_string(cols) + "x" + std::to_string(rows));
        return DCMB_ERR_DECODE;
    }
    opj_image_comp_t &c = img->comps[0];
    if (c.w != cols || c.h != rows || !c.data || c.prec > 16) {
        setErr(err, errlen, "JPEG 2000 code stream does not match Rows/Columns/BitsAllocated");
        return DCMB_ERR_DECODE;
    }
    std::vector<Uint16> px(rows * cols);
    for (size_t i = 0; i < px.size(); i++) px[i] = (Uint16)(c.data[i] & 0xFFFF);   // two's complement when signed
    std::unique_ptr<DcmDataset> copy(new DcmDataset(*f->ds()));
    copy->putAndInsertUint16(DCM_BitsAllocated, 16);
    copy->putAndInsertUint16Array(DCM_PixelData, px.data(), (unsigned long)px.size());
    copy->removeAllButCurrentRepresentations();
    f->native = std::move(copy);
    return DCMB_OK;
}

// The dataset and transfer syntax that DicomImage should decode.
static int32_t decodable(dcmb_file *f, DcmDataset *&ds, E_TransferSyntax &xfer, char *err, size_t errlen) {
    int32_t s = checkDecodable(f, err, errlen);
    if (s != DCMB_OK) return s;
    if (isJ2K(f->xfer)) {
        s = decodeJ2K(f, err, errlen);
        if (s != DCMB_OK) return s;
        ds = f->native.get();
        xfer = EXS_LittleEndianExplicit;
    } else {
        ds = f->ds();
        xfer = f->decompressed ? EXS_LittleEndianExplicit : f->xfer;
    }
    return DCMB_OK;
}

template <class Body>
static int32_t guarded(char *err, size_t errlen, Body body) {
    try {
        return body();
    } catch (const std::exception &e) {
        setErr(err, errlen, std::string("internal error: ") + e.what());
    } catch (...) {
        setErr(err, errlen, "internal error");
    }
    return DCMB_ERR_INTERNAL;
}

static int32_t openImage(dcmb_file *f, std::unique_ptr<DicomImage> &img, size_t capacity, int32_t *rows,
                         int32_t *cols, char *err, size_t errlen) {
    DcmDataset *ds = nullptr; E_TransferSyntax xfer = EXS_Unknown;
    int32_t s = decodable(f, ds, xfer, err, errlen);
    if (s != DCMB_OK) return s;
    img.reset(new DicomImage(ds, xfer, (unsigned long)0, (unsigned long)0, (unsigned long)1));
    if (img->getStatus() != EIS_Normal) {
        setErr(err, errlen, std::string("cannot decode pixel data: ") + DicomImage::getString(img->getStatus()));
        return DCMB_ERR_DECODE;
    }
    if (!img->isMonochrome()) { setErr(err, errlen, "not a monochrome image"); return DCMB_ERR_COLOUR; }
    size_t w = img->getWidth(), h = img->getHeight();
    if (rows) *rows = (int32_t)h;
    if (cols) *cols = (int32_t)w;
    if (capacity < w * h) { setErr(err, errlen, "output buffer too small"); return DCMB_ERR_INTERNAL; }
    return DCMB_OK;
}

extern "C" int32_t dcmb_decode_display(dcmb_file *f, float *out, size_t capacity, int32_t *rows, int32_t *cols,
                                       int32_t *used_voi, char *err, size_t errlen) {
    if (!f || !out) { setErr(err, errlen, "null argument"); return DCMB_ERR_INTERNAL; }
    return guarded(err, errlen, [&]() -> int32_t {
        std::unique_ptr<DicomImage> img;
        int32_t s = openImage(f, img, capacity, rows, cols, err, errlen);
        if (s != DCMB_OK) return s;
        int32_t voi = 0;
        double slope = num(f, DCM_RescaleSlope, 1), icpt = num(f, DCM_RescaleIntercept, 0);
        double bs = num(f, DCM_BitsStored, 8), pr = num(f, DCM_PixelRepresentation, 0);
        if (img->getWindowCount() > 0 && img->setWindow(0)) voi = 1;
        else if (img->getVoiLutCount() > 0 && img->setVoiLut(0)) voi = 2;
        else if (bs <= 8 && slope == 1 && icpt == 0 && pr == 0 && f->ds()->tagExists(DCM_ModalityLUTSequence) == OFFalse) {
            // 8-bit data without VOI: identity v/255 (c = 128, w = 256 maps x to exactly x/255), like a plain image file.
            double n = (double)(1u << (unsigned)bs);
            if (img->setWindow(n / 2, n)) voi = 3;
        }
        if (voi == 0) { img->setMinMaxWindow(0); voi = 4; }
        if (used_voi) *used_voi = voi;
        const Uint16 *o = (const Uint16 *)img->getOutputData(16, 0, 0);
        if (!o) { setErr(err, errlen, "cannot render pixel data"); return DCMB_ERR_DECODE; }
        size_t n = (size_t)img->getWidth() * img->getHeight();
        for (size_t i = 0; i < n; i++) out[i] = (float)o[i] / 65535.0f;
        return DCMB_OK;
    });
}

extern "C" int32_t dcmb_decode_modality(dcmb_file *f, double *out, size_t capacity, int32_t *rows, int32_t *cols,
                                        char *err, size_t errlen) {
    if (!f || !out) { setErr(err, errlen, "null argument"); return DCMB_ERR_INTERNAL; }
    return guarded(err, errlen, [&]() -> int32_t {
        std::unique_ptr<DicomImage> img;
        int32_t s = openImage(f, img, capacity, rows, cols, err, errlen);
        if (s != DCMB_OK) return s;
        const DiPixel *px = img->getInterData();
        if (!px || !px->getData()) { setErr(err, errlen, "no modality values"); return DCMB_ERR_DECODE; }
        size_t n = (size_t)img->getWidth() * img->getHeight();
        if (px->getCount() < n) { setErr(err, errlen, "modality values too short"); return DCMB_ERR_DECODE; }
        const void *d = px->getData();
        switch (px->getRepresentation()) {
        case EPR_Uint8: for (size_t i = 0; i < n; i++) out[i] = ((const Uint8 *)d)[i]; break;
        case EPR_Sint8: for (size_t i = 0; i < n; i++) out[i] = ((const Sint8 *)d)[i]; break;
        case EPR_Uint16: for (size_t i = 0; i < n; i++) out[i] = ((const Uint16 *)d)[i]; break;
        case EPR_Sint16: for (size_t i = 0; i < n; i++) out[i] = ((const Sint16 *)d)[i]; break;
        case EPR_Uint32: for (size_t i = 0; i < n; i++) out[i] = ((const Uint32 *)d)[i]; break;
        case EPR_Sint32: for (size_t i = 0; i < n; i++) out[i] = ((const Sint32 *)d)[i]; break;
        default: setErr(err, errlen, "unexpected modality value representation"); return DCMB_ERR_DECODE;
        }
        return DCMB_OK;
    });
}

extern "C" int32_t dcmb_decode_stored(dcmb_file *f, int32_t *out, size_t capacity, int32_t *rows, int32_t *cols,
                                      char *err, size_t errlen) {
    if (!f || !out) { setErr(err, errlen, "null argument"); return DCMB_ERR_INTERNAL; }
    return guarded(err, errlen, [&]() -> int32_t {
        DcmDataset *ds = nullptr; E_TransferSyntax xfer = EXS_Unknown;
        int32_t s = decodable(f, ds, xfer, err, errlen);
        if (s != DCMB_OK) return s;
        if (DcmXfer(xfer).isEncapsulated()) {
            if (ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() ||
                !ds->canWriteXfer(EXS_LittleEndianExplicit)) {
                setErr(err, errlen, "cannot decompress pixel data"); return DCMB_ERR_DECODE;
            }
            if (!isJ2K(f->xfer)) f->decompressed = true;
        }
        size_t r = (size_t)num(f, DCM_Rows, 0), c = (size_t)num(f, DCM_Columns, 0), n = r * c;
        unsigned bs = (unsigned)num(f, DCM_BitsStored, 8);
        bool sgn = num(f, DCM_PixelRepresentation, 0) == 1;
        if (rows) *rows = (int32_t)r;
        if (cols) *cols = (int32_t)c;
        if (capacity < n) { setErr(err, errlen, "output buffer too small"); return DCMB_ERR_INTERNAL; }
        DcmPixelData *pd = pixelData(ds);
        if (!pd) { setErr(err, errlen, "no Pixel Data"); return DCMB_ERR_NO_PIXEL_DATA; }
        uint32_t mask = bs >= 32 ? 0xFFFFFFFFu : ((1u << bs) - 1);
        auto store = [&](uint32_t w) -> int32_t {
            w &= mask;
            if (sgn && bs < 32 && (w & (1u << (bs - 1)))) return (int32_t)(w | ~mask);
            return (int32_t)w;
        };
        if (num(f, DCM_BitsAllocated, 16) == 8 && !isJ2K(f->xfer)) {
            Uint8 *d = nullptr;
            if (pd->getUint8Array(d).bad() || !d || pd->getLength() < n) { setErr(err, errlen, "pixel data too short"); return DCMB_ERR_PIXEL_SHORT; }
            for (size_t i = 0; i < n; i++) out[i] = store(d[i]);
        } else {
            Uint16 *d = nullptr;
            if (pd->getUint16Array(d).bad() || !d || pd->getLength() < 2 * n) { setErr(err, errlen, "pixel data too short"); return DCMB_ERR_PIXEL_SHORT; }
            for (size_t i = 0; i < n; i++) out[i] = store(d[i]);
        }
        return DCMB_OK;
    });
}
