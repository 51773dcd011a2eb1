// Internal: what the scored SR (dcmbridge_sr.cpp) shares with the "not performed" SR (dcmbridge_sr_np.cpp).
#ifndef DCMBRIDGE_SR_SHARED_HPP
#define DCMBRIDGE_SR_SHARED_HPP
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmsr/dsrdoc.h"
#include "dcmbridge_sr.h"

namespace dcmb_out {
// Patient, study, series, equipment and content date/time of a new SR in the source's study.
void applySRContext(DSRDocument &doc, const dcmb_context &c);
}
#endif
