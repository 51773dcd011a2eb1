// DICOM networking over DCMTK dcmnet: C-ECHO and C-STORE SCU, and a storage SCP (one listener thread per allowed
// association, on a socket bound to the configured address) that writes each instance atomically into an inbox.
// Plain C API in dcmbridge_net.h.
#include "dcmtk/config/osconfig.h"   // must come first
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/scu.h"
#include "dcmtk/dcmnet/dstorscu.h"
#include "dcmtk/dcmnet/dulstruc.h"
#include "dcmtk/dcmnet/dcmlayer.h"
#include "dcmtk/dcmnet/dcmtrans.h"
#include "dcmtk/dcmnet/scpthrd.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/oflog/oflog.h"
#include "dcmbridge_net.h"

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <memory>
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
#include <netdb.h>

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
    bool allowAnyCaller = false;
    std::set<std::string> sopClasses;
    std::atomic<uint64_t> stored{0}, failed{0}, rejected{0};
    std::atomic<uint64_t> seq{0};
};

// UIDs become path components: only DICOM UID syntax (digits in non-empty dot-separated components, at most 64
// characters) so a hostile UID can never name "..", a hidden file, a separator or the staging folder.
bool isSafeUID(const std::string &uid) {
    if (uid.empty() || uid.size() > 64 || uid.front() == '.' || uid.back() == '.') return false;
    char prev = 0;
    for (char c : uid) {
        if (!((c >= '0' && c <= '9') || c == '.')) return false;
        if (c == '.' && prev == '.') return false;
        prev = c;
    }
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
        bool ok = trimAE(calledAE.c_str()) == shared->aeTitle;
        if (!ok) shared->rejected++;
        return ok;
    }
    OFBool checkCallingAETitleAccepted(const OFString &callingAE) override {
        if (shared->allowAnyCaller) return OFTrue;
        bool ok = shared->allowedCalling.count(trimAE(callingAE.c_str())) > 0;
        if (!ok) shared->rejected++;
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

// The socket of the connection a listener thread is serving, so stop() can cut it. `established` is set once the
// A-ASSOCIATE-RQ has been read: before that the peer is anonymous and is cut at once on stop.
struct ConnSlot {
    std::mutex m;
    int fd = -1;
    bool established = false;
};

// Clears its slot (under the slot lock) before the socket is closed, so stop() never shuts down a reused fd.
class TrackedConnection : public DcmTCPConnection {
public:
    TrackedConnection(DcmNativeSocketType s, ConnSlot *slot) : DcmTCPConnection(s), slot_(slot) {
        std::lock_guard<std::mutex> g(slot_->m);
        slot_->fd = s;
        slot_->established = false;
    }
    ~TrackedConnection() override { release(); }
    void close() override { release(); DcmTCPConnection::close(); }
    void closeTransportConnection() override { release(); DcmTCPConnection::closeTransportConnection(); }
private:
    void release() { std::lock_guard<std::mutex> g(slot_->m); slot_->fd = -1; slot_->established = false; }
    ConnSlot *slot_;
};

class TrackingLayer : public DcmTransportLayer {
public:
    explicit TrackingLayer(ConnSlot *slot) : slot_(slot) {}
    DcmTransportConnection *createConnection(DcmNativeSocketType s, OFBool secure) override {
        if (secure) return DcmTransportLayer::createConnection(s, secure);
        return new TrackedConnection(s, slot_);
    }
private:
    ConnSlot *slot_;
};

// Opens the listening socket on exactly the configured address. DCMTK 3.6.7's ASC_initializeNetwork always binds
// INADDR_ANY, so we bind ourselves and hand the socket to DCMTK (see makeAcceptorNetwork).
int openListener(const std::string &bind, uint16_t port, std::string &error) {
    std::string host = bind.empty() ? "0.0.0.0" : bind;
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;  // literals only: a name could resolve to anything
    std::string service = std::to_string(port);
    int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    if (rc != 0 || !res) {
        error = "bind address '" + host + "' is not a numeric IPv4 or IPv6 address";
        return -1;
    }
    int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) { error = std::string("socket: ") + std::strerror(errno); ::freeaddrinfo(res); return -1; }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // "::" means IPv6 only here; 0.0.0.0 is the way to say all IPv4 interfaces.
    if (res->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
        error = "cannot listen on " + host + " port " + service + ": " + std::strerror(errno);
        ::close(fd);
        ::freeaddrinfo(res);
        return -1;
    }
    ::freeaddrinfo(res);
    // Several threads accept on this socket: non-blocking so the losers of a race return instead of blocking in
    // accept() (accepted sockets do not inherit O_NONBLOCK on Linux).
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

// A DCMTK acceptor network around our own listening socket: created as a requestor (so DCMTK opens no socket of
// its own), then given the acceptor role and a dup of our socket, which ASC_dropNetwork closes.
T_ASC_Network *makeAcceptorNetwork(int listenFd, int acseTimeout, ConnSlot *slot, std::string &error) {
    T_ASC_Network *net = nullptr;
    OFCondition c = ASC_initializeNetwork(NET_REQUESTOR, 0, acseTimeout, &net);
    if (c.bad() || !net) { error = std::string("network init: ") + c.text(); return nullptr; }
    auto *key = static_cast<PRIVATE_NETWORKKEY *>(net->network);
    int dupFd = ::fcntl(listenFd, F_DUPFD_CLOEXEC, 0);
    if (dupFd < 0) { error = std::string("dup: ") + std::strerror(errno); ASC_dropNetwork(&net); return nullptr; }
    key->applicationFunction |= DICOM_APPLICATION_ACCEPTOR;
    key->networkSpecific.TCP.listenSocket = dupFd;
    net->role = NET_ACCEPTORREQUESTOR;
    c = ASC_setTransportLayer(net, new TrackingLayer(slot), 1);
    if (c.bad()) { error = std::string("transport layer: ") + c.text(); ASC_dropNetwork(&net); return nullptr; }
    return net;
}

} // namespace

// One listener thread per allowed association: each accepts on the shared socket and serves its association
// itself, so a peer that connects and stays silent holds one thread (for at most the ACSE timeout), never the
// others, and the association limit is the thread count (further peers wait in the listen backlog).
struct dcmbn_scp {
    ScpShared shared;
    DcmSCPConfig config;
    std::unique_ptr<DcmSharedSCPConfig> sharedConfig;
    int listenFd = -1;
    int timeoutS = 30;
    std::atomic<bool> stopping{false};
    std::atomic<int> running{0};
    std::vector<std::unique_ptr<ConnSlot>> slots;
    std::vector<T_ASC_Network *> nets;
    std::vector<std::thread> threads;

    void serve(size_t i) {
        // Nothing may escape this thread (std::terminate), and `running` must count down whatever happens.
        try { serveLoop(i); } catch (...) {}
        running--;
    }

    void serveLoop(size_t i) {
        T_ASC_Network *net = nets[i];
        while (!stopping.load()) {
            T_ASC_Association *assoc = nullptr;
            OFCondition c = ASC_receiveAssociation(net, &assoc, OFstatic_cast(long, config.getMaxReceivePDULength()),
                                                   nullptr, nullptr, OFFalse, DUL_NOBLOCK, 1);
            if (c.good() && !stopping.load()) {
                { std::lock_guard<std::mutex> g(slots[i]->m); slots[i]->established = true; }
                InboxSCP scp;
                scp.shared = &shared;
                scp.setSharedConfig(*sharedConfig);
                scp.run(assoc);  // negotiates, serves, then drops and destroys the association
                continue;
            }
            if (assoc) { ASC_dropSCPAssociation(assoc); ASC_destroyAssociation(&assoc); }
            // Lost accept race, idle peer timed out, garbage instead of an A-ASSOCIATE-RQ: go on listening; a
            // short pause keeps a persistent error (e.g. out of file descriptors) from spinning.
            if (c.bad() && c != DUL_NOASSOCIATIONREQUEST)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    // Cuts connections: all of them, or only those still before their A-ASSOCIATE-RQ.
    void cut(bool all) {
        for (auto &s : slots) {
            std::lock_guard<std::mutex> g(s->m);
            if (s->fd >= 0 && (all || !s->established)) ::shutdown(s->fd, SHUT_RDWR);
        }
    }
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
        std::set<std::string> allowed;
        for (size_t i = 0; i < cfg->allowed_count; i++)
            if (cfg->allowed_calling && cfg->allowed_calling[i] && *cfg->allowed_calling[i]) allowed.insert(trimAE(cfg->allowed_calling[i]));
        if (allowed.empty() && !cfg->allow_any_caller) {
            setErr(err, errlen, "no calling AE titles allowed: give the allow-list, or allow any caller explicitly");
            return nullptr;
        }
        scp = new dcmbn_scp();
        ScpShared &sh = scp->shared;
        sh.aeTitle = trimAE(cfg->ae_title);
        sh.inbox = cfg->inbox;
        while (sh.inbox.size() > 1 && sh.inbox.back() == '/') sh.inbox.pop_back();
        sh.staging = sh.inbox + "/.staging";
        sh.allowedCalling = allowed;
        sh.allowAnyCaller = cfg->allow_any_caller != 0;
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
        scp->timeoutS = cfg->timeout_s > 0 ? cfg->timeout_s : 30;
        DcmSCPConfig &c = scp->config;
        c.setAETitle(sh.aeTitle.c_str());
        c.setPort(cfg->port);
        Uint32 t = OFstatic_cast(Uint32, scp->timeoutS);
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
        scp->sharedConfig.reset(new DcmSharedSCPConfig(c));

        std::string e;
        scp->listenFd = openListener(cfg->bind_address ? cfg->bind_address : "", cfg->port, e);
        if (scp->listenFd < 0) { setErr(err, errlen, e); delete scp; return nullptr; }
        size_t n = OFstatic_cast(size_t, cfg->max_associations > 0 ? cfg->max_associations : 8);
        for (size_t i = 0; i < n; i++) {
            scp->slots.emplace_back(new ConnSlot());
            T_ASC_Network *net = makeAcceptorNetwork(scp->listenFd, scp->timeoutS, scp->slots.back().get(), e);
            if (!net) {
                setErr(err, errlen, e);
                for (auto *x : scp->nets) ASC_dropNetwork(&x);
                ::close(scp->listenFd);
                delete scp;
                return nullptr;
            }
            scp->nets.push_back(net);
        }
        // The socket listens before any thread runs: a caller may connect as soon as start returns.
        scp->running = OFstatic_cast(int, n);
        for (size_t i = 0; i < n; i++) scp->threads.emplace_back([scp, i] { scp->serve(i); });
        return scp;
    } catch (const std::exception &e) {
        setErr(err, errlen, std::string("internal error: ") + e.what());
    } catch (...) {
        setErr(err, errlen, "internal error");
    }
    delete scp;
    return nullptr;
}

void dcmbn_scp_stop(dcmbn_scp *scp, dcmbn_scp_stats *final_stats) {
    if (!scp) return;
    try {
        scp->stopping = true;
        // Stop accepting at once: the listener refuses new connections and wakes every thread in select().
        ::shutdown(scp->listenFd, SHUT_RDWR);
        // Associations in progress get the timeout to finish; silent pre-association peers are cut right away.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(scp->timeoutS);
        while (scp->running.load() > 0 && std::chrono::steady_clock::now() < deadline) {
            scp->cut(false);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        // Then everything left is cut; the threads return within DCMTK's next read.
        while (scp->running.load() > 0) {
            scp->cut(true);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        for (auto &t : scp->threads) if (t.joinable()) t.join();
        for (auto *net : scp->nets) ASC_dropNetwork(&net);
        ::close(scp->listenFd);
        if (final_stats) dcmbn_scp_get_stats(scp, final_stats);
        delete scp;
    } catch (...) {}
}

void dcmbn_scp_get_stats(dcmbn_scp *scp, dcmbn_scp_stats *out) {
    if (!scp || !out) return;
    out->stored = scp->shared.stored.load();
    out->failed = scp->shared.failed.load();
    out->rejected = scp->shared.rejected.load();
}

} // extern "C"
