/* DICOM networking (DCMTK dcmnet) behind a plain C API: C-ECHO / C-STORE SCU and a storage SCP.
 * Every function catches C++ exceptions; errors come back as a code plus a message in `err`. */
#ifndef DCMBRIDGE_NET_H
#define DCMBRIDGE_NET_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* Result codes shared by the SCU calls. */
typedef enum dcmbn_result {
    DCMBN_OK = 0,
    DCMBN_ERR_CONNECT = 1,      /* TCP connection failed (refused, unreachable, timeout) */
    DCMBN_ERR_REJECTED = 2,     /* association rejected by the peer (AE titles, policy) */
    DCMBN_ERR_NO_CONTEXT = 3,   /* association accepted but no presentation context for an object */
    DCMBN_ERR_DIMSE_STATUS = 4, /* at least one C-STORE/C-ECHO answered with a failure status */
    DCMBN_ERR_BAD_FILE = 5,     /* a file could not be read as DICOM */
    DCMBN_ERR_NETWORK = 6,      /* other network / protocol failure (abort, timeout mid-transfer) */
    DCMBN_ERR_INTERNAL = 7      /* unexpected exception or invalid argument */
} dcmbn_result;

typedef struct dcmbn_peer {
    const char *calling_aet;  /* our AE title */
    const char *called_aet;   /* the peer's AE title */
    const char *host;
    uint16_t port;
    int32_t timeout_s;        /* connect, ACSE and DIMSE timeout in seconds */
} dcmbn_peer;

/* Per-file outcome of dcmbn_store. status is the DIMSE status (0 = success), sent is 1 when the request went out. */
typedef struct dcmbn_store_result {
    uint16_t status;
    int32_t sent;
    int32_t code;             /* dcmbn_result for this file */
    char sop_instance_uid[68];
    char message[256];
} dcmbn_store_result;

/* C-ECHO. Returns a dcmbn_result. */
int dcmbn_echo(const dcmbn_peer *peer, char *err, size_t errlen);

/* C-STORE of `count` files over one association. results must hold `count` entries.
 * Returns DCMBN_OK only when every file was stored with a success (or warning) status. */
int dcmbn_store(const dcmbn_peer *peer, const char *const *paths, size_t count,
                dcmbn_store_result *results, char *err, size_t errlen);

/* Storage SCP. */
typedef struct dcmbn_scp_config {
    const char *ae_title;
    uint16_t port;
    const char *bind_address;        /* NULL/"" = 0.0.0.0; else a numeric IPv4 or IPv6 address to listen on only */
    const char *inbox;               /* <inbox>/<StudyUID>/<SOPUID>.dcm, staging in <inbox>/.staging */
    const char *const *allowed_calling; /* calling AE titles allowed to associate */
    size_t allowed_count;
    int32_t allow_any_caller;        /* must be non-zero for an empty allow-list (refused otherwise) */
    const char *const *sop_classes;  /* accepted storage SOP classes; NULL = built-in CR/DX/SC list */
    size_t sop_class_count;
    int32_t max_associations;        /* concurrent associations (threads) */
    int32_t timeout_s;               /* ACSE/DIMSE timeout */
} dcmbn_scp_config;

typedef struct dcmbn_scp_stats {
    uint64_t stored;          /* instances written into the inbox */
    uint64_t failed;          /* C-STOREs answered with a failure status */
    uint64_t rejected;        /* associations refused (calling or called AE title) */
} dcmbn_scp_stats;

typedef struct dcmbn_scp dcmbn_scp;

/* Creates the SCP and opens the listening port (so a port clash is reported here). NULL on error. */
dcmbn_scp *dcmbn_scp_start(const dcmbn_scp_config *config, char *err, size_t errlen);
/* Stops accepting, cuts peers that have not completed an association request, lets running associations
 * finish (at most timeout_s, then cuts them), frees the handle. final_stats (may be NULL) gets the counters
 * after the last association ended. */
void dcmbn_scp_stop(dcmbn_scp *scp, dcmbn_scp_stats *final_stats);
void dcmbn_scp_get_stats(dcmbn_scp *scp, dcmbn_scp_stats *out);

/* The default accepted storage SOP classes (NULL-terminated, static). */
const char *const *dcmbn_default_sop_classes(void);

#ifdef __cplusplus
}
#endif
#endif
