// DICOM networking over DCMTK dcmnet: C-ECHO and C-STORE SCU, and a thread-per-association storage SCP
// that writes each instance atomically into an inbox. Plain C API in dcmbridge_net.h.
#include "dcmtk/config/osconfig.h"   // must come first
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/scu.h"
#include "dcmtk/dcmnet/dstorscu.h"
#include "dcmtk/dcmnet/scppool.h"
#include "dcmtk/dcmnet/scpthrd.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/oflog/oflog.h"
#include "dcmbridge_net.h"

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

namespace {

void setErr(char *err, size_t errlen, const std::string &msg) {
    if (err && errlen > 0) {
        std::strncpy(err, msg.c_str(), errlen - 1);
        err[errlen - 1] = 0;
    }
}

void copyField(char *dst, size_t cap, const std::string &src) {
    std::strncpy(dst, src.c_str(), cap - 1);
    dst[cap - 1] = 0;
}

// DCMTK logs to stderr by default; the Swift side reports errors itself.
void quietLogging() {
    static std::once_flag once;
    std::call_once(once, [] { OFLog::configure(OFLogger::FATAL_LOG_LEVEL); });
}

const char *const kDefaultSOPClasses[] = {
    UID_ComputedRadiographyImageStorage,                   // CR
    UID_DigitalXRayImageStorageForPresentation,            // DX for presentation
    UID_DigitalXRayImageStorageForProcessing,              // DX for processing
    UID_SecondaryCaptureImageStorage,                      // SC
    nullptr,
};

// Accepted as-is (no transcoding on receipt): decoding is DicomKit's job later. The SCP picks, within one
// presentation context, the first of these the SCU proposed: compressed syntaxes first, so an object arrives as the
// sender holds it (senders such as storescu cannot decompress), lossless before lossy, then uncompressed.
const char *const kTransferSyntaxes[] = {
    UID_JPEGProcess14SV1TransferSyntax,                    // JPEG lossless SV1
    UID_JPEGProcess14TransferSyntax,                       // JPEG lossless
    UID_JPEGLSLosslessTransferSyntax,
    UID_JPEG2000LosslessOnlyTransferSyntax,
    UID_RLELosslessTransferSyntax,
    UID_JPEGProcess1TransferSyntax,                        // JPEG baseline
    UID_JPEGProcess2_4TransferSyntax,                      // JPEG extended
    UID_JPEGLSLossyTransferSyntax,
    UID_JPEG2000TransferSyntax,
    UID_LittleEndianExplicitTransferSyntax,
    UID_DeflatedExplicitVRLittleEndianTransferSyntax,
    UID_LittleEndianImplicitTransferSyntax,
    nullptr,
};

int classifyAssociationFailure(const OFCondition &cond) {
    if (cond == DUL_ASSOCIATIONREJECTED) return DCMBN_ERR_REJECTED;
    return DCMBN_ERR_CONNECT;
}

void configureSCU(DcmSCU &scu, const dcmbn_peer *peer) {
    scu.setAETitle(peer->calling_aet ? peer->calling_aet : "BRIXIA");
    scu.setPeerAETitle(peer->called_aet ? peer->called_aet : "ANY-SCP");
    scu.setPeerHostName(peer->host ? peer->host : "127.0.0.1");
    scu.setPeerPort(peer->port);
    Sint32 t = peer->timeout_s > 0 ? peer->timeout_s : 30;
    scu.setConnectionTimeout(t);
    scu.setACSETimeout(OFstatic_cast(Uint32, t));
    scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scu.setDIMSETimeout(OFstatic_cast(Uint32, t));
}

std::string peerName(const dcmbn_peer *p) {
    return std::string(p->called_aet ? p->called_aet : "?") + "@" + (p->host ? p->host : "?") + ":" +
           std::to_string(p->port);
}

// DcmStorageSCU that records each instance's outcome.
class RecordingStorageSCU : public DcmStorageSCU {
public:
    struct Outcome { std::string file, uid; bool sent; Uint16 status; };
    std::vector<Outcome> outcomes;
protected:
    void notifySOPInstanceSent(const TransferEntry &e) override {
        outcomes.push_back({std::string(e.Filename.getCharPointer() ? e.Filename.getCharPointer() : ""),
                            std::string(e.SOPInstanceUID.c_str()), e.RequestSent != OFFalse, e.ResponseStatusCode});
    }
};

bool isSuccessOrWarning(Uint16 s) {
    return s == STATUS_Success || (s & 0xF000) == 0xB000 || s == 0x0107 || s == 0x0116;
}

// ---------------------------------------------------------------------------------------------
// Storage SCP

struct ScpShared {
    std::string aeTitle;
    std::string inbox;
    std::string staging;
    std::set<std::string> allowedCalling;
    std::set<std::string> sopClasses;
    bool loopbackOnly = false;
    std::atomic<uint64_t> stored{0}, failed{0}, rejected{0};
    std::atomic<uint64_t> seq{0};
};

// UIDs become path components: allow only DICOM UID characters so a hostile UID cannot escape the inbox.
bool isSafeUID(const std::string &uid) {
    if (uid.empty() || uid.size() > 64 || uid[0] == '.') return false;
    for (char c : uid) if (!((c >= '0' && c <= '9') || c == '.')) return false;
    return true;
}

bool fsyncPath(const std::string &path, bool directory) {
    int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
    if (fd < 0) return false;
    bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

std::string trimAE(std::string s) {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    while (!s.empty() && s.front() == ' ') s.erase(0, 1);
    return s;
}

class InboxSCP : public DcmThreadSCP {
public:
    ScpShared *shared = nullptr;
protected:
    OFBool checkCalledAETitleAccepted(const OFString &calledAE) override {
        return trimAE(calledAE.c_str()) == shared->aeTitle;
    }
    OFBool checkCallingAETitleAccepted(const OFString &callingAE) override {
        if (shared->allowedCalling.empty()) return OFTrue;
        bool ok = shared->allowedCalling.count(trimAE(callingAE.c_str())) > 0;
        if (!ok) shared->rejected++;
        return ok;
    }
    OFBool checkCallingHostAccepted(const OFString &host) override {
        if (!shared->loopbackOnly) return OFTrue;
        // With host lookup off DCMTK passes an empty name; the peer's IP is what matters here.
        std::string h = getPeerIP().c_str();
        if (h.empty()) h = host.c_str();
        bool ok = h.rfind("127.", 0) == 0 || h.rfind("::ffff:127.", 0) == 0 || h == "localhost" || h == "::1";
        if (!ok) { shared->rejected++; std::fprintf(stderr, "brixia scp: rejected host '%s'\n", h.c_str()); }
        return ok;
    }

    OFCondition handleIncomingCommand(T_DIMSE_Message *msg, const DcmPresentationContextInfo &info) override {
        if (msg->CommandField != DIMSE_C_STORE_RQ) return DcmThreadSCP::handleIncomingCommand(msg, info);
        T_DIMSE_C_StoreRQ &req = msg->msg.CStoreRQ;
        T_ASC_PresentationContextID presID = info.presentationContextID;
        DcmDataset *ds = nullptr;
        OFCondition cond = receiveSTORERequest(req, presID, ds);
        if (cond.bad()) {  // aborted or broken transfer: nothing was written anywhere
            delete ds;
            shared->failed++;
            return cond;
        }
        Uint16 status = storeInstance(req, info, ds);
        delete ds;
        if (status != STATUS_Success) shared->failed++; else shared->stored++;
        return sendSTOREResponse(presID, req, status);
    }

private:
    Uint16 storeInstance(const T_DIMSE_C_StoreRQ &req, const DcmPresentationContextInfo &info, DcmDataset *ds) {
        std::string sopClass = req.AffectedSOPClassUID;
        // The negotiated context must be for the class announced in the request, and we must accept it.
        if (shared->sopClasses.count(sopClass) == 0 || std::string(info.abstractSyntax.c_str()) != sopClass)
            return STATUS_STORE_Refused_SOPClassNotSupported;  // 0x0122
        if (!ds) return STATUS_STORE_Error_CannotUnderstand;
        OFString dsClass, dsInst, study;
        ds->findAndGetOFString(DCM_SOPClassUID, dsClass);
        ds->findAndGetOFString(DCM_SOPInstanceUID, dsInst);
        ds->findAndGetOFString(DCM_StudyInstanceUID, study);
        if (std::string(dsClass.c_str()) != sopClass || std::string(dsInst.c_str()) != req.AffectedSOPInstanceUID)
            return STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;  // 0xA900
        if (!isSafeUID(study.c_str()) || !isSafeUID(dsInst.c_str()))
            return STATUS_STORE_Error_CannotUnderstand;  // 0xC000
        std::string dir = shared->inbox + "/" + study.c_str();
        std::string finalPath = dir + "/" + dsInst.c_str() + ".dcm";
        std::string tmp = shared->staging + "/" + std::to_string(::getpid()) + "-" +
                          std::to_string(shared->seq.fetch_add(1)) + "-" + dsInst.c_str() + ".part";
        E_TransferSyntax xfer = ds->getOriginalXfer();
        if (xfer == EXS_Unknown) xfer = EXS_LittleEndianExplicit;
        DcmFileFormat ff(ds);
        // Source AE in the meta header tells the pipeline who sent it.
        ff.getMetaInfo()->putAndInsertString(DCM_SourceApplicationEntityTitle, getPeerAETitle().c_str());
        OFCondition c = ff.saveFile(tmp.c_str(), xfer, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0, EWM_fileformat);
        if (c.bad() || !fsyncPath(tmp, false)) { ::unlink(tmp.c_str()); return STATUS_STORE_Refused_OutOfResources; }
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) { ::unlink(tmp.c_str()); return STATUS_STORE_Refused_OutOfResources; }
        if (::rename(tmp.c_str(), finalPath.c_str()) != 0) { ::unlink(tmp.c_str()); return STATUS_STORE_Refused_OutOfResources; }
        fsyncPath(dir, true);
        return STATUS_Success;
    }
};

class InboxPool;

class InboxWorker : public DcmBaseSCPPool::DcmBaseSCPWorker, private InboxSCP {
public:
    InboxWorker(DcmBaseSCPPool &pool, ScpShared *s) : DcmBaseSCPPool::DcmBaseSCPWorker(pool), InboxSCP() { shared = s; }
    OFCondition setSharedConfig(const DcmSharedSCPConfig &config) override { return InboxSCP::setSharedConfig(config); }
    OFBool busy() override { return InboxSCP::isConnected(); }
    OFCondition workerListen(T_ASC_Association *const assoc) override { return InboxSCP::run(assoc); }
};

class InboxPool : public DcmBaseSCPPool {
public:
    ScpShared *shared = nullptr;
protected:
    DcmBaseSCPWorker *createSCPWorker() override { return new InboxWorker(*this, shared); }
};

} // namespace

struct dcmbn_scp {
    ScpShared shared;
    InboxPool pool;
    std::thread thread;
    std::mutex mutex;
    std::string listenError;
    std::atomic<bool> finished{false};
    uint16_t port = 0;
};

extern "C" {

const char *const *dcmbn_default_sop_classes(void) { return kDefaultSOPClasses; }

int dcmbn_echo(const dcmbn_peer *peer, char *err, size_t errlen) {
    try {
        quietLogging();
        if (!peer) { setErr(err, errlen, "no peer"); return DCMBN_ERR_INTERNAL; }
        DcmSCU scu;
        configureSCU(scu, peer);
        OFList<OFString> ts;
        ts.push_back(UID_LittleEndianExplicitTransferSyntax);
        ts.push_back(UID_LittleEndianImplicitTransferSyntax);
        scu.addPresentationContext(UID_VerificationSOPClass, ts);
        OFCondition c = scu.initNetwork();
        if (c.bad()) { setErr(err, errlen, std::string("network init: ") + c.text()); return DCMBN_ERR_INTERNAL; }
        c = scu.negotiateAssociation();
        if (c.bad()) {
            int code = classifyAssociationFailure(c);
            setErr(err, errlen, (code == DCMBN_ERR_REJECTED ? "association rejected by " : "cannot connect to ") +
                                    peerName(peer) + ": " + c.text());
            return code;
        }
        T_ASC_PresentationContextID pc = scu.findPresentationContextID(UID_VerificationSOPClass, "");
        if (pc == 0) {
            scu.releaseAssociation();
            setErr(err, errlen, peerName(peer) + " did not accept the Verification SOP class");
            return DCMBN_ERR_NO_CONTEXT;
        }
        c = scu.sendECHORequest(pc);
        if (c.bad()) {
            scu.abortAssociation();
            setErr(err, errlen, "C-ECHO to " + peerName(peer) + " failed: " + c.text());
            return DCMBN_ERR_NETWORK;
        }
        scu.releaseAssociation();
        return DCMBN_OK;
    } catch (const std::exception &e) {
        setErr(err, errlen, std::string("internal error: ") + e.what());
        return DCMBN_ERR_INTERNAL;
    } catch (...) {
        setErr(err, errlen, "internal error");
        return DCMBN_ERR_INTERNAL;
    }
}

int dcmbn_store(const dcmbn_peer *peer, const char *const *paths, size_t count,
                dcmbn_store_result *results, char *err, size_t errlen) {
    try {
        quietLogging();
        if (!peer || (!paths && count) || (!results && count)) { setErr(err, errlen, "bad arguments"); return DCMBN_ERR_INTERNAL; }
        for (size_t i = 0; i < count; i++) {
            std::memset(&results[i], 0, sizeof(results[i]));
            results[i].code = DCMBN_ERR_NETWORK;
            copyField(results[i].message, sizeof(results[i].message), "not sent");
        }
        RecordingStorageSCU scu;
        configureSCU(scu, peer);
        scu.setHaltOnUnsuccessfulStoreMode(OFFalse);
        // Read each file fully up front: a bad file is reported per file and not sent.
        std::vector<size_t> added;
        bool anyBad = false;
        for (size_t i = 0; i < count; i++) {
            DcmFileFormat probe;
            OFCondition c = probe.loadFile(paths[i], EXS_Unknown, EGL_noChange, 0 /* no pixel data */);
            OFString uid;
            if (c.good()) probe.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, uid);
            copyField(results[i].sop_instance_uid, sizeof(results[i].sop_instance_uid), uid.c_str());
            if (c.good()) c = scu.addDicomFile(paths[i], ERM_fileOnly, OFFalse);
            if (c.bad()) {
                results[i].code = DCMBN_ERR_BAD_FILE;
                copyField(results[i].message, sizeof(results[i].message), std::string("cannot read as DICOM: ") + c.text());
                anyBad = true;
                continue;
            }
            added.push_back(i);
        }
        if (added.empty()) { setErr(err, errlen, "no readable DICOM file to send"); return DCMBN_ERR_BAD_FILE; }
        OFCondition c = scu.addPresentationContexts();
        if (c.good()) c = scu.initNetwork();
        if (c.bad()) { setErr(err, errlen, std::string("network init: ") + c.text()); return DCMBN_ERR_INTERNAL; }
        c = scu.negotiateAssociation();
        if (c.bad()) {
            int code = classifyAssociationFailure(c);
            std::string msg = (code == DCMBN_ERR_REJECTED ? "association rejected by " : "cannot connect to ") + peerName(peer) + ": " + c.text();
            for (size_t i : added) { results[i].code = code; copyField(results[i].message, sizeof(results[i].message), msg); }
            setErr(err, errlen, msg);
            return code;
        }
        OFCondition sendCond = scu.sendSOPInstances();
        if (sendCond.good()) scu.releaseAssociation(); else scu.abortAssociation();
        // Map outcomes (recorded in transfer order) back to files by path.
        int worst = DCMBN_OK;
        for (size_t i : added) {
            const RecordingStorageSCU::Outcome *o = nullptr;
            for (auto &x : scu.outcomes) if (x.file == paths[i]) { o = &x; break; }
            dcmbn_store_result &r = results[i];
            if (!o || !o->sent) {
                // Not sent: either no accepted presentation context or the association broke before it.
                bool noContext = sendCond.good() || sendCond == NET_EC_NoPresentationContextsDefined ||
                                 sendCond == NET_EC_NoAcceptablePresentationContexts;
                r.code = noContext ? DCMBN_ERR_NO_CONTEXT : DCMBN_ERR_NETWORK;
                copyField(r.message, sizeof(r.message), noContext
                          ? "peer accepted no presentation context for this SOP class / transfer syntax"
                          : std::string("not sent: ") + sendCond.text());
            } else if (isSuccessOrWarning(o->status)) {
                r.sent = 1; r.status = o->status; r.code = DCMBN_OK;
                char buf[64]; std::snprintf(buf, sizeof buf, o->status ? "stored (warning 0x%04X)" : "stored", o->status);
                copyField(r.message, sizeof(r.message), buf);
            } else {
                r.sent = 1; r.status = o->status;
                r.code = o->status == 0 ? DCMBN_ERR_NETWORK : DCMBN_ERR_DIMSE_STATUS;
                char buf[128];
                if (o->status == 0) std::snprintf(buf, sizeof buf, "no C-STORE response: %s", sendCond.text());
                else std::snprintf(buf, sizeof buf, "C-STORE failed with DIMSE status 0x%04X", o->status);
                copyField(r.message, sizeof(r.message), buf);
            }
            if (r.code != DCMBN_OK && (worst == DCMBN_OK || r.code == DCMBN_ERR_NETWORK)) worst = r.code;
        }
        if (worst == DCMBN_OK && anyBad) worst = DCMBN_ERR_BAD_FILE;
        if (worst != DCMBN_OK) setErr(err, errlen, sendCond.bad() ? std::string("sending to ") + peerName(peer) + ": " + sendCond.text()
                                                                : "some objects were not stored by " + peerName(peer));
        return worst;
    } catch (const std::exception &e) {
        setErr(err, errlen, std::string("internal error: ") + e.what());
        return DCMBN_ERR_INTERNAL;
    } catch (...) {
        setErr(err, errlen, "internal error");
        return DCMBN_ERR_INTERNAL;
    }
}

dcmbn_scp *dcmbn_scp_start(const dcmbn_scp_config *cfg, char *err, size_t errlen) {
    dcmbn_scp *scp = nullptr;
    try {
        quietLogging();
        if (!cfg || !cfg->ae_title || !cfg->inbox || !*cfg->ae_title || !*cfg->inbox) {
            setErr(err, errlen, "SCP needs an AE title and an inbox folder");
            return nullptr;
        }
        std::string bind = cfg->bind_address ? cfg->bind_address : "";
        bool loopbackOnly = false;
        if (bind == "127.0.0.1" || bind == "localhost" || bind == "::1") loopbackOnly = true;
        else if (!(bind.empty() || bind == "0.0.0.0" || bind == "*")) {
            setErr(err, errlen, "bind address " + bind + " is not supported (DCMTK 3.6.7 listens on all interfaces): use 0.0.0.0 or 127.0.0.1");
            return nullptr;
        }
        // Probe the port first so "address in use" is reported to the caller instead of dying in the listener thread.
        int probe = ::socket(AF_INET, SOCK_STREAM, 0);
        if (probe >= 0) {
            int one = 1;
            ::setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            sockaddr_in a{}; a.sin_family = AF_INET; a.sin_port = htons(cfg->port); a.sin_addr.s_addr = htonl(INADDR_ANY);
            int rc = ::bind(probe, reinterpret_cast<sockaddr *>(&a), sizeof a);
            int e = errno;
            ::close(probe);
            if (rc != 0) { setErr(err, errlen, "cannot listen on port " + std::to_string(cfg->port) + ": " + std::strerror(e)); return nullptr; }
        }
        scp = new dcmbn_scp();
        ScpShared &sh = scp->shared;
        sh.aeTitle = trimAE(cfg->ae_title);
        sh.inbox = cfg->inbox;
        while (sh.inbox.size() > 1 && sh.inbox.back() == '/') sh.inbox.pop_back();
        sh.staging = sh.inbox + "/.staging";
        sh.loopbackOnly = loopbackOnly;
        for (size_t i = 0; i < cfg->allowed_count; i++) if (cfg->allowed_calling[i] && *cfg->allowed_calling[i]) sh.allowedCalling.insert(trimAE(cfg->allowed_calling[i]));
        if (cfg->sop_classes && cfg->sop_class_count) {
            for (size_t i = 0; i < cfg->sop_class_count; i++) sh.sopClasses.insert(cfg->sop_classes[i]);
        } else {
            for (const char *const *p = kDefaultSOPClasses; *p; p++) sh.sopClasses.insert(*p);
        }
        if ((::mkdir(sh.inbox.c_str(), 0755) != 0 && errno != EEXIST) || (::mkdir(sh.staging.c_str(), 0700) != 0 && errno != EEXIST)) {
            setErr(err, errlen, "cannot create inbox " + sh.inbox + ": " + std::strerror(errno));
            delete scp;
            return nullptr;
        }
        scp->pool.shared = &sh;
        scp->port = cfg->port;
        DcmSCPConfig &c = scp->pool.getConfig();
        c.setAETitle(sh.aeTitle.c_str());
        c.setPort(cfg->port);
        // Non-blocking accept with a 1 s tick so stop() is noticed promptly.
        c.setConnectionBlockingMode(DUL_NOBLOCK);
        c.setConnectionTimeout(1);
        Uint32 t = cfg->timeout_s > 0 ? OFstatic_cast(Uint32, cfg->timeout_s) : 30;
        c.setACSETimeout(t);
        c.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        c.setDIMSETimeout(t);
        c.setHostLookupEnabled(OFFalse);
        OFList<OFString> ts;
        for (const char *const *p = kTransferSyntaxes; *p; p++) ts.push_back(*p);
        for (const auto &cls : sh.sopClasses) c.addPresentationContext(cls.c_str(), ts);
        OFList<OFString> vts;
        vts.push_back(UID_LittleEndianExplicitTransferSyntax);
        vts.push_back(UID_LittleEndianImplicitTransferSyntax);
        c.addPresentationContext(UID_VerificationSOPClass, vts);
        scp->pool.setMaxThreads(OFstatic_cast(Uint16, cfg->max_associations > 0 ? cfg->max_associations : 8));
        dcmbn_scp *self = scp;
        scp->thread = std::thread([self] {
            try {
                OFCondition r = self->pool.listen();
                if (r.bad()) { std::lock_guard<std::mutex> g(self->mutex); self->listenError = r.text(); }
            } catch (...) {}
            self->finished = true;
        });
        // listen() opens the port inside the thread: wait (bounded, 10 s) until it accepts, so a caller may
        // connect as soon as start returns.
        for (int i = 0; i < 200 && !scp->finished.load(); i++) {
            int s = ::socket(AF_INET, SOCK_STREAM, 0);
            if (s < 0) break;
            sockaddr_in a{}; a.sin_family = AF_INET; a.sin_port = htons(cfg->port); a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            bool up = ::connect(s, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
            ::close(s);
            if (up) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (scp->finished.load()) {
            std::string e;
            { std::lock_guard<std::mutex> g(scp->mutex); e = scp->listenError; }
            setErr(err, errlen, "listener stopped at once: " + (e.empty() ? std::string("unknown error") : e));
            if (scp->thread.joinable()) scp->thread.join();
            delete scp;
            return nullptr;
        }
        return scp;
    } catch (const std::exception &e) {
        setErr(err, errlen, std::string("internal error: ") + e.what());
    } catch (...) {
        setErr(err, errlen, "internal error");
    }
    delete scp;
    return nullptr;
}

void dcmbn_scp_stop(dcmbn_scp *scp) {
    if (!scp) return;
    try {
        scp->pool.stopAfterCurrentAssociations();
        // The pool only looks at the stop flag between connections; poke the port with an empty TCP connection
        // until the listener has returned (bounded: ~30 s, then give up joining rather than hang the caller).
        for (int i = 0; i < 150 && !scp->finished.load(); i++) {
            int s = ::socket(AF_INET, SOCK_STREAM, 0);
            if (s >= 0) {
                sockaddr_in a{}; a.sin_family = AF_INET; a.sin_port = htons(scp->port); a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                ::connect(s, reinterpret_cast<sockaddr *>(&a), sizeof a);
                ::close(s);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        if (!scp->finished.load()) { scp->thread.detach(); return; }  // leak rather than hang
        if (scp->thread.joinable()) scp->thread.join();
        delete scp;
    } catch (...) {}
}

void dcmbn_scp_get_stats(dcmbn_scp *scp, dcmbn_scp_stats *out) {
    if (!scp || !out) return;
    try {
        out->stored = scp->shared.stored.load();
        out->failed = scp->shared.failed.load();
        out->rejected = scp->shared.rejected.load();
    } catch (...) {}
}

} // extern "C"
