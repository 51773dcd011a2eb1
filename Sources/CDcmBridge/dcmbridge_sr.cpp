// Comprehensive SR (TID 1500 "Imaging Measurement Report") for one Brixia scoring, built with DSRDocument.
// The tree is built by hand (not with the dcmsr/cmr TID classes) because 3.6.7's TID 1501 lacks the
// Algorithm Identification rows and DCMTK would pick Enhanced SR; layout and codes follow docs/reports.md.
#include "dcmtk/config/osconfig.h"   // must come first
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmsr/dsrdoc.h"
#include <cstdio>
#include "dcmbridge_out.hpp"
#include "dcmbridge_sr_shared.hpp"
#include "dcmbridge_sr.h"

using namespace dcmb_out;
typedef DSRTypes T;

namespace {

DSRCodedEntryValue code(const char *v, const char *s, const char *m) {
    DSRCodedEntryValue c(str(v), str(s), str(m));
    if (!c.isValid())
        throw WriteError(DCMB_WRITE_INVALID_INPUT, std::string("invalid code (") + str(v) + "," + str(s) + ",\"" + str(m) + "\")");
    return c;
}
DSRCodedEntryValue code(const dcmb_code &c) { return code(c.value, c.scheme, c.meaning); }

const char *const BRX = "99BRIXIA";

void check(OFCondition c, const std::string &what) {
    if (c.bad()) throw WriteError(DCMB_WRITE_INVALID_INPUT, what + ": " + c.text());
}

// Small cursor-free builder: every add names its parent node explicitly.
struct Tree {
    DSRDocumentTree &t;
    size_t child(size_t parent, T::E_RelationshipType rel, T::E_ValueType vt, const DSRCodedEntryValue *concept) {
        if (t.gotoNode(parent) == 0) throw WriteError(DCMB_WRITE_ENCODING_ERROR, "SR tree: lost parent node");
        size_t id = t.addContentItem(rel, vt, T::AM_belowCurrent);
        if (id == 0)
            throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string("SR tree: cannot add ") + T::valueTypeToDefinedTerm(vt) +
                             " with relationship " + T::relationshipTypeToDefinedTerm(rel) +
                             (concept ? " for " + concept->getCodeMeaning() : std::string()));
        if (concept) check(t.getCurrentContentItem().setConceptName(*concept), "concept name " + concept->getCodeMeaning());
        return id;
    }
    DSRContentItem &item() { return t.getCurrentContentItem(); }
    size_t codeItem(size_t parent, T::E_RelationshipType rel, const DSRCodedEntryValue &name, const DSRCodedEntryValue &value) {
        size_t id = child(parent, rel, T::VT_Code, &name);
        check(item().setCodeValue(value), "code value " + value.getCodeMeaning());
        return id;
    }
    size_t textItem(size_t parent, T::E_RelationshipType rel, const DSRCodedEntryValue &name, const std::string &value,
                    T::E_ValueType vt = T::VT_Text) {
        size_t id = child(parent, rel, vt, &name);
        check(item().setStringValue(value), name.getCodeMeaning() + " '" + value + "'");
        return id;
    }
    size_t numItem(size_t parent, T::E_RelationshipType rel, const DSRCodedEntryValue &name, const std::string &value,
                   const DSRCodedEntryValue &unit) {
        size_t id = child(parent, rel, T::VT_Num, &name);
        check(item().setNumericValue(DSRNumericMeasurementValue(value, unit)), name.getCodeMeaning() + " = " + value);
        return id;
    }
    size_t imageItem(size_t parent, T::E_RelationshipType rel, const DSRCodedEntryValue *name, const dcmb_image_ref &img) {
        size_t id = child(parent, rel, T::VT_Image, name);
        check(item().setImageReference(DSRImageReferenceValue(str(img.sop_class_uid), str(img.sop_instance_uid))),
              "image reference " + str(img.sop_instance_uid));
        return id;
    }
};

std::string fmt(double v, const char *f) { char b[64]; std::snprintf(b, sizeof b, f, v); return b; }

DSRCodedEntryValue modalityCode(const std::string &m) {
    if (m == "CR") return code("CR", "DCM", "Computed Radiography");
    if (m == "DX") return code("DX", "DCM", "Digital Radiography");
    return code(m.c_str(), "DCM", m.c_str());
}

// TID 1601 Image Library Group with the TID 1602 descriptors highdicom writes for a projection image
// (modality, study date, rows, columns, patient orientation, pixel spacing), then the image as "Source".
void addLibraryGroup(Tree &tr, size_t lib, const dcmb_image_ref &img) {
    const DSRCodedEntryValue libGroup = code("126200", "DCM", "Image Library Group");
    const DSRCodedEntryValue pixels = code("{pixels}", "UCUM", "Pixels");
    const DSRCodedEntryValue mm = code("mm", "UCUM", "millimeter");
    size_t g = tr.child(lib, T::RT_contains, T::VT_Container, &libGroup);
    if (present(img.modality))
        tr.codeItem(g, T::RT_hasAcqContext, code("121139", "DCM", "Modality"), modalityCode(img.modality));
    if (present(img.study_date))
        tr.textItem(g, T::RT_hasAcqContext, code("111060", "DCM", "Study Date"), img.study_date, T::VT_Date);
    if (img.rows > 0 && img.columns > 0) {
        tr.numItem(g, T::RT_hasAcqContext, code("110910", "DCM", "Pixel Data Rows"), std::to_string(img.rows), pixels);
        tr.numItem(g, T::RT_hasAcqContext, code("110911", "DCM", "Pixel Data Columns"), std::to_string(img.columns), pixels);
    }
    const std::string orientation = str(img.patient_orientation);
    const size_t sep = orientation.find('\\');
    if (sep != std::string::npos && sep > 0 && sep + 1 < orientation.size()) {
        tr.textItem(g, T::RT_hasAcqContext, code("111044", "DCM", "Patient Orientation Row"), orientation.substr(0, sep));
        tr.textItem(g, T::RT_hasAcqContext, code("111043", "DCM", "Patient Orientation Column"), orientation.substr(sep + 1));
    }
    if (img.pixel_spacing_row > 0 && img.pixel_spacing_col > 0) {
        // PixelSpacing is (row spacing = vertical, column spacing = horizontal)
        tr.numItem(g, T::RT_hasAcqContext, code("111026", "DCM", "Horizontal Pixel Spacing"), fmt(img.pixel_spacing_col, "%.6g"), mm);
        tr.numItem(g, T::RT_hasAcqContext, code("111066", "DCM", "Vertical Pixel Spacing"), fmt(img.pixel_spacing_row, "%.6g"), mm);
    }
    const DSRCodedEntryValue source = code("260753009", "SCT", "Source");
    tr.imageItem(g, T::RT_contains, &source, img);
}

// The rows every TID 1501 measurement group starts with, in highdicom's order: tracking identifier and
// UID, time point, TID 4019 algorithm identification, the analysed image, the finding site with laterality.
size_t addMeasurementGroup(Tree &tr, size_t parent, const dcmb_sr_input &in, const char *trackingID, const char *trackingUID,
                           const DSRCodedEntryValue &site, const DSRCodedEntryValue &side) {
    const DSRCodedEntryValue groupName = code("125007", "DCM", "Measurement Group");
    size_t g = tr.child(parent, T::RT_contains, T::VT_Container, &groupName);
    check(tr.item().setTemplateIdentification("1501", "DCMR"), "measurement group template");
    tr.textItem(g, T::RT_hasObsContext, code("112039", "DCM", "Tracking Identifier"), str(trackingID));
    tr.textItem(g, T::RT_hasObsContext, code("112040", "DCM", "Tracking Unique Identifier"), str(trackingUID), T::VT_UIDRef);
    // TID 1502 Time Point Context: the study date of the analysed image.
    if (present(in.context.study_date))
        tr.textItem(g, T::RT_hasObsContext, code("C2348792", "UMLS", "Time Point"), str(in.context.study_date));
    // TID 4019 Algorithm Identification (weights checksum as the algorithm parameter).
    // No Algorithm Family CODE row: highdicom 0.28 then lists "Artificial Intelligence" as a qualitative evaluation.
    tr.textItem(g, T::RT_hasConceptMod, code("111001", "DCM", "Algorithm Name"), str(in.algorithm_name));
    tr.textItem(g, T::RT_hasConceptMod, code("111003", "DCM", "Algorithm Version"), str(in.algorithm_version));
    if (present(in.weights_sha256))
        tr.textItem(g, T::RT_hasConceptMod, code("111002", "DCM", "Algorithm Parameters"),
                    std::string("weights SHA-256 ") + in.weights_sha256);
    const DSRCodedEntryValue source = code("260753009", "SCT", "Source");
    tr.imageItem(g, T::RT_contains, &source, in.source);
    size_t fs = tr.codeItem(g, T::RT_hasConceptMod, code("363698007", "SCT", "Finding Site"), site);
    tr.codeItem(fs, T::RT_hasConceptMod, code("272741003", "SCT", "Laterality"), side);
    return g;
}

void buildTree(DSRDocument &doc, const dcmb_sr_input &in) {
    Tree tr{doc.getTree()};
    DSRDocumentTree &t = doc.getTree();
    const DSRCodedEntryValue unitScore = code("{score}", "UCUM", "score");
    const DSRCodedEntryValue unitOne = code("1", "UCUM", "no units");
    const DSRCodedEntryValue findingSite = code("363698007", "SCT", "Finding Site");
    const DSRCodedEntryValue laterality = code("272741003", "SCT", "Laterality");
    const DSRCodedEntryValue lung = code("39607008", "SCT", "Lung");
    const DSRCodedEntryValue bilateral = code("51440002", "SCT", "Right and left");
    const DSRCodedEntryValue sourceOfMeasurement = code("121112", "DCM", "Source of Measurement");

    size_t root = t.addContentItem(T::RT_isRoot, T::VT_Container);
    if (root == 0) throw WriteError(DCMB_WRITE_ENCODING_ERROR, "SR tree: cannot add root container");
    check(t.getCurrentContentItem().setConceptName(code("126000", "DCM", "Imaging Measurement Report")), "root concept");
    check(t.getCurrentContentItem().setTemplateIdentification("1500", "DCMR"), "root template");

    // TID 1204 language, TID 1001/1004 device observer, procedure reported.
    tr.codeItem(root, T::RT_hasConceptMod, code("121049", "DCM", "Language of Content Item and Descendants"),
                code("en-US", "RFC5646", "English (United States)"));
    tr.codeItem(root, T::RT_hasObsContext, code("121005", "DCM", "Observer Type"), code("121007", "DCM", "Device"));
    tr.textItem(root, T::RT_hasObsContext, code("121012", "DCM", "Device Observer UID"), str(in.device_observer_uid), T::VT_UIDRef);
    tr.textItem(root, T::RT_hasObsContext, code("121013", "DCM", "Device Observer Name"), str(in.device_observer_name));
    tr.textItem(root, T::RT_hasObsContext, code("121014", "DCM", "Device Observer Manufacturer"), str(in.context.manufacturer));
    tr.textItem(root, T::RT_hasObsContext, code("121015", "DCM", "Device Observer Model Name"),
                str(in.algorithm_name) + " " + str(in.algorithm_version));
    tr.codeItem(root, T::RT_hasConceptMod, code("121058", "DCM", "Procedure reported"), code("399208008", "SCT", "Plain X-ray of chest"));

    // TID 1600 Image Library: current image, then the prior (if any) in its own group.
    const DSRCodedEntryValue libName = code("111028", "DCM", "Image Library");
    size_t lib = tr.child(root, T::RT_contains, T::VT_Container, &libName);
    addLibraryGroup(tr, lib, in.source);
    if (in.has_prior) addLibraryGroup(tr, lib, in.prior);

    // TID 1501: one measurement group per zone (its own tracking identifier, finding site and concept name,
    // as highdicom writes six measured regions), then one for the global score and the longitudinal content.
    const DSRCodedEntryValue measurements = code("126010", "DCM", "Imaging Measurements");
    size_t ms = tr.child(root, T::RT_contains, T::VT_Container, &measurements);
    for (int i = 0; i < 6; ++i) {
        const dcmb_sr_zone &z = in.zones[i];
        if (z.grade < 0 || z.grade > 3)
            throw WriteError(DCMB_WRITE_INVALID_INPUT, std::string("zone ") + str(z.label) + " grade out of 0...3");
        size_t g = addMeasurementGroup(tr, ms, in, z.tracking_identifier, z.tracking_uid, code(z.finding_site), code(z.laterality));
        size_t n = tr.numItem(g, T::RT_contains, code(z.concept), std::to_string(z.grade), unitScore);
        size_t fs = tr.codeItem(n, T::RT_hasConceptMod, findingSite, code(z.finding_site));
        tr.codeItem(fs, T::RT_hasConceptMod, laterality, code(z.laterality));
        if (z.has_probabilities) {
            for (int k = 0; k < 4; ++k) {
                const std::string cv = "BRX-P" + std::to_string(k);
                const std::string cm = "Probability of Brixia grade " + std::to_string(k);
                tr.numItem(n, T::RT_inferredFrom, code(cv.c_str(), BRX, cm.c_str()), fmt(z.probabilities[k], "%.4f"), unitOne);
            }
        }
        if (z.has_confidence) {
            if (!(z.confidence >= 0 && z.confidence <= 1))
                throw WriteError(DCMB_WRITE_INVALID_INPUT, std::string("zone ") + str(z.label) + " confidence out of 0...1");
            tr.numItem(g, T::RT_contains, code("BRX-ZCONF", BRX, "Calibrated confidence of zone grade"),
                       fmt(z.confidence, "%.4f"), unitOne);
        }
    }
    size_t g = addMeasurementGroup(tr, ms, in, in.tracking_identifier, in.tracking_uid, lung, bilateral);
    size_t gl = tr.numItem(g, T::RT_contains, code("BRX-GLOBAL", BRX, "Brixia score"), std::to_string(in.global), unitScore);
    size_t gfs = tr.codeItem(gl, T::RT_hasConceptMod, findingSite, lung);
    tr.codeItem(gfs, T::RT_hasConceptMod, laterality, bilateral);
    if (in.has_confidence)
        tr.numItem(g, T::RT_contains, code("BRX-CONF", BRX, "Calibrated confidence of Brixia score"), fmt(in.confidence, "%.4f"), unitOne);

    if (in.has_change) {
        size_t d = tr.numItem(g, T::RT_contains, code("BRX-DELTA", BRX, "Brixia score change from prior"),
                              std::to_string(in.delta), unitScore);
        if (in.has_prior) {
            size_t p = tr.numItem(d, T::RT_inferredFrom, code("BRX-PRIOR", BRX, "Brixia score of prior exam"),
                                  std::to_string(in.prior_global), unitScore);
            if (present(in.prior.study_date))
                check(tr.item().setObservationDateTime(str(in.prior.study_date) + "000000"), "prior observation date");
            tr.imageItem(p, T::RT_inferredFrom, &sourceOfMeasurement, in.prior);
        }
        if (present(in.trend.value))
            tr.codeItem(g, T::RT_contains, code("BRX-TREND", BRX, "Change vs prior exam"), code(in.trend));
    }
    for (size_t i = 0; i < in.alert_count; ++i)
        tr.codeItem(g, T::RT_contains, code("BRX-ALERT", BRX, "Brixia alert"), code(in.alerts[i]));
    tr.textItem(g, T::RT_contains, code("121106", "DCM", "Comment"), str(in.disclaimer));
    if (present(in.input_note)) tr.textItem(g, T::RT_contains, code("121106", "DCM", "Comment"), str(in.input_note));
}

// Amended report: the replaced SR goes into the Predecessor Documents Sequence and the reason into a
// Comment at the end of the root container (kept apart from buildTree so that tree changes merge cleanly).
void addAmendment(DSRDocument &doc, const dcmb_sr_input &in) {
    if (!present(in.predecessor_sop_instance_uid)) return;
    check(doc.getPredecessorDocuments().addItem(str(in.context.study_instance_uid), str(in.predecessor_series_uid),
                                                UID_ComprehensiveSRStorage, str(in.predecessor_sop_instance_uid)),
          "predecessor document");
    if (present(in.amendment_text)) {
        Tree tr{doc.getTree()};
        size_t root = doc.getTree().gotoRoot();
        if (root == 0) throw WriteError(DCMB_WRITE_ENCODING_ERROR, "SR tree: no root for the amendment note");
        tr.textItem(root, T::RT_contains, code("121106", "DCM", "Comment"), str(in.amendment_text));
    }
}

void applyContext(DSRDocument &doc, const dcmb_context &c) {
    if (!isASCII(c)) check(doc.setSpecificCharacterSetType(T::CS_UTF8), "SpecificCharacterSet");
    // Patient and study attributes are put after DSRDocument::write by putPatientAndStudy, the mapping every
    // writer shares; only the study UID is needed here.
    check(doc.createNewSeriesInStudy(str(c.study_instance_uid)), "StudyInstanceUID");
    check(doc.setManufacturer(str(c.manufacturer)), "Manufacturer");
    if (present(c.manufacturer_model_name)) check(doc.setManufacturerModelName(c.manufacturer_model_name), "ManufacturerModelName");
    if (present(c.software_versions)) check(doc.setSoftwareVersions(c.software_versions), "SoftwareVersions");
    if (present(c.device_serial_number)) check(doc.setDeviceSerialNumber(c.device_serial_number), "DeviceSerialNumber");
    check(doc.setSeriesDescription(str(c.series_description)), "SeriesDescription");
    check(doc.setSeriesNumber(str(c.series_number)), "SeriesNumber");
    check(doc.setInstanceNumber(str(c.instance_number)), "InstanceNumber");
    if (present(c.content_date)) check(doc.setContentDate(c.content_date), "ContentDate");
    if (present(c.content_time)) check(doc.setContentTime(c.content_time), "ContentTime");
}

void addEvidence(DSRSOPInstanceReferenceList &list, const dcmb_image_ref &r, const char *what) {
    check(list.addItem(str(r.study_instance_uid), str(r.series_instance_uid), str(r.sop_class_uid), str(r.sop_instance_uid)),
          std::string(what) + " evidence");
}

} // namespace

extern "C" int dcmb_write_sr(const char *directory, const char *filename, const dcmb_sr_input *in,
                             char *err, size_t errlen) {
    const std::string target = str(directory) + "/" + str(filename);
    return guardedWrite(target, err, errlen, [&]() -> int {
        if (!in || !present(directory) || !present(filename))
            return fail(err, errlen, DCMB_WRITE_INVALID_INPUT, target + ": missing input");
        DSRDocument doc(T::DT_ComprehensiveSR);
        applyContext(doc, in->context);
        check(doc.setPreliminaryFlag(T::PF_Preliminary), "PreliminaryFlag");
        buildTree(doc, *in);
        addAmendment(doc, *in);
        check(doc.completeDocument(), "CompletionFlag");   // COMPLETE; VerificationFlag stays UNVERIFIED
        DSRCodingSchemeIdentificationList &cs = doc.getCodingSchemeIdentification();
        check(cs.addItem("99BRIXIA", "", "Brixia AI score codes", "Brixia project (local scheme, see docs/reports.md)"),
              "CodingSchemeIdentification");
        addEvidence(doc.getCurrentRequestedProcedureEvidence(), in->source, "source image");
        if (in->has_prior) addEvidence(doc.getPertinentOtherEvidence(), in->prior, "prior image");

        DcmFileFormat ff;
        DcmDataset *ds = ff.getDataset();
        OFCondition c = doc.write(*ds);
        if (c.bad()) throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string("DSRDocument::write: ") + c.text());
        putPatientAndStudy(*ds, in->context);
        // Our own UIDs replace the OFFIS-rooted ones that DSRDocument generated.
        put(*ds, DCM_SeriesInstanceUID, str(in->context.series_instance_uid));
        put(*ds, DCM_SOPInstanceUID, str(in->context.sop_instance_uid));
        if (present(in->context.institution_name)) put(*ds, DCM_InstitutionName, in->context.institution_name);
        saveAtomically(ff, directory, filename);
        return DCMB_WRITE_OK;
    });
}

// Shared with the "AI analysis not performed" SR (dcmbridge_sr_np.cpp): the same patient/study/equipment header.
void dcmb_out::applySRContext(DSRDocument &doc, const dcmb_context &c) { applyContext(doc, c); }
