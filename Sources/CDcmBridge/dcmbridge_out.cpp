// Shared output helpers: attribute puts with checked status and the atomic file write.
#include "dcmbridge_out.hpp"
#include "dcmtk/dcmdata/dcostrmb.h"
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dcmb_out {

static bool asciiOnly(const char *s) {
    if (!s) return true;
    for (; *s; ++s) if ((unsigned char)*s >= 0x80) return false;
    return true;
}

bool isASCII(const dcmb_context &c) {
    const char *fields[] = { c.patient_id, c.issuer_of_patient_id, c.patient_name, c.study_id, c.accession_number,
                             c.study_description, c.referring_physician_name, c.institution_name, c.series_description,
                             c.manufacturer_model_name, c.accession_issuer_local, c.accession_issuer_universal };
    for (const char *f : fields) if (!asciiOnly(f)) return false;
    for (size_t i = 0; i < c.other_patient_id_count && c.other_patient_ids; i++)
        if (!asciiOnly(c.other_patient_ids[i].id) || !asciiOnly(c.other_patient_ids[i].issuer)) return false;
    return true;
}

void put(DcmItem &item, const DcmTagKey &tag, const std::string &value) {
    OFCondition c = item.putAndInsertString(tag, value.c_str());
    if (c.bad())
        throw WriteError(DCMB_WRITE_INVALID_INPUT,
                         std::string("cannot set ") + DcmTag(tag).getTagName() + " to '" + value + "': " + c.text());
}

static DcmItem &newItem(DcmItem &parent, const DcmTagKey &seq, long index) {
    DcmItem *it = nullptr;
    OFCondition c = parent.findOrCreateSequenceItem(seq, it, index);
    if (c.bad() || !it) throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string("cannot create ") + DcmTag(seq).getTagName());
    return *it;
}

void putPatientAndStudy(DcmItem &ds, const dcmb_context &c) {
    auto putOpt = [&ds](const DcmTagKey &tag, const char *v) { put(ds, tag, str(v)); };   // type 2: empty allowed
    // Every text value is UTF-8 (the reader converted the source's character set); plain ASCII needs no declaration.
    if (!isASCII(c)) put(ds, DCM_SpecificCharacterSet, "ISO_IR 192");
    if (present(c.timezone_offset_from_utc)) put(ds, DCM_TimezoneOffsetFromUTC, c.timezone_offset_from_utc);
    // Patient
    putOpt(DCM_PatientName, c.patient_name);
    putOpt(DCM_PatientID, c.patient_id);
    if (present(c.issuer_of_patient_id)) put(ds, DCM_IssuerOfPatientID, c.issuer_of_patient_id);
    putOpt(DCM_PatientBirthDate, c.patient_birth_date);
    putOpt(DCM_PatientSex, c.patient_sex);
    ds.findAndDeleteElement(DCM_OtherPatientIDsSequence);
    for (size_t i = 0; i < c.other_patient_id_count && c.other_patient_ids; i++) {
        const dcmb_other_patient_id &o = c.other_patient_ids[i];
        DcmItem &it = newItem(ds, DCM_OtherPatientIDsSequence, -2);   // -2: append a new item
        put(it, DCM_PatientID, str(o.id));
        if (present(o.issuer)) put(it, DCM_IssuerOfPatientID, o.issuer);
        put(it, DCM_TypeOfPatientID, present(o.type) ? o.type : "TEXT");
    }
    // Patient Study
    if (present(c.patient_age)) put(ds, DCM_PatientAge, c.patient_age);
    // General Study
    put(ds, DCM_StudyInstanceUID, str(c.study_instance_uid));
    putOpt(DCM_StudyDate, c.study_date);
    putOpt(DCM_StudyTime, c.study_time);
    putOpt(DCM_ReferringPhysicianName, c.referring_physician_name);
    putOpt(DCM_StudyID, c.study_id);
    putOpt(DCM_AccessionNumber, c.accession_number);
    ds.findAndDeleteElement(DCM_IssuerOfAccessionNumberSequence);
    if (present(c.accession_issuer_local) || present(c.accession_issuer_universal)) {
        DcmItem &it = newItem(ds, DCM_IssuerOfAccessionNumberSequence, 0);
        if (present(c.accession_issuer_local)) put(it, DCM_LocalNamespaceEntityID, c.accession_issuer_local);
        if (present(c.accession_issuer_universal)) {
            put(it, DCM_UniversalEntityID, c.accession_issuer_universal);
            put(it, DCM_UniversalEntityIDType, present(c.accession_issuer_universal_type) ? c.accession_issuer_universal_type : "ISO");
        }
    }
    if (present(c.study_description)) put(ds, DCM_StudyDescription, c.study_description);
}

void putCommon(DcmItem &ds, const dcmb_context &c, const char *sopClassUID, const char *modality) {
    // SOP Common
    put(ds, DCM_SOPClassUID, sopClassUID);
    put(ds, DCM_SOPInstanceUID, str(c.sop_instance_uid));
    put(ds, DCM_InstanceCreationDate, str(c.content_date));
    put(ds, DCM_InstanceCreationTime, str(c.content_time));
    putPatientAndStudy(ds, c);
    // General Series
    put(ds, DCM_Modality, modality);
    put(ds, DCM_SeriesInstanceUID, str(c.series_instance_uid));
    put(ds, DCM_SeriesNumber, str(c.series_number));
    put(ds, DCM_SeriesDescription, str(c.series_description));
    put(ds, DCM_SeriesDate, str(c.content_date));
    put(ds, DCM_SeriesTime, str(c.content_time));
}


static int statusForErrno(int e) {
    switch (e) {
    case ENOENT: return DCMB_WRITE_DIRECTORY_MISSING;
    case EACCES: case EPERM: case EROFS: case ENOTDIR: case EISDIR: return DCMB_WRITE_NOT_WRITABLE;
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
        return DCMB_WRITE_DISK_FULL;
    default: return DCMB_WRITE_IO_ERROR;
    }
}

static std::string encode(DcmFileFormat &ff) {
    std::string bytes;
    std::string chunk(1 << 20, '\0');
    DcmOutputBufferStream os(&chunk[0], chunk.size());
    ff.transferInit();
    OFCondition c;
    for (;;) {
        c = ff.write(os, EXS_LittleEndianExplicit, EET_ExplicitLength, nullptr);
        if (c != EC_StreamNotifyClient) break;
        void *data = nullptr; offile_off_t n = 0;
        os.flushBuffer(data, n);
        bytes.append(static_cast<const char *>(data), static_cast<size_t>(n));
    }
    ff.transferEnd();
    if (c.bad()) throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string("DCMTK could not encode the object: ") + c.text());
    void *data = nullptr; offile_off_t n = 0;
    os.flushBuffer(data, n);
    bytes.append(static_cast<const char *>(data), static_cast<size_t>(n));
    return bytes;
}

void saveAtomically(DcmFileFormat &ff, const char *directory, const char *filename) {
    const std::string dir = str(directory);
    const std::string finalPath = dir + "/" + str(filename);
    struct stat st;
    if (stat(dir.c_str(), &st) != 0)
        throw WriteError(statusForErrno(errno), dir + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) throw WriteError(DCMB_WRITE_NOT_WRITABLE, dir + ": not a directory");

    const std::string bytes = encode(ff);
    static std::atomic<unsigned> counter{0};
    const std::string tmpPath = dir + "/." + str(filename) + ".tmp-" + std::to_string(getpid()) + "-" +
                                std::to_string(counter.fetch_add(1));
    int fd = open(tmpPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) { int e = errno; throw WriteError(statusForErrno(e), tmpPath + ": " + std::strerror(e)); }
    size_t off = 0;
    while (off < bytes.size()) {
        ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno; close(fd); unlink(tmpPath.c_str());
            throw WriteError(statusForErrno(e), tmpPath + ": " + std::strerror(e));
        }
        off += static_cast<size_t>(w);
    }
    // ENOSPC can surface only at fsync/close on some file systems.
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno; unlink(tmpPath.c_str());
        throw WriteError(statusForErrno(e), tmpPath + ": " + std::strerror(e));
    }
    if (rename(tmpPath.c_str(), finalPath.c_str()) != 0) {
        int e = errno; unlink(tmpPath.c_str());
        throw WriteError(statusForErrno(e), finalPath + ": " + std::strerror(e));
    }
}

int fail(char *err, size_t errlen, int status, const std::string &msg) {
    if (err && errlen > 0) {
        std::strncpy(err, msg.c_str(), errlen - 1);
        err[errlen - 1] = '\0';
    }
    return status;
}

} // namespace dcmb_out
