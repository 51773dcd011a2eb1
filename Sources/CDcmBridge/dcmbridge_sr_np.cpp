// The "AI analysis not performed" SR: a TID 1500 report with the observer, the procedure, the examined image
// and one qualitative statement with the reason, so the reading radiologist sees why no score came back.
#include "dcmtk/config/osconfig.h"   // must come first
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmsr/dsrdoc.h"
#include "dcmbridge_out.hpp"
#include "dcmbridge_sr_np.h"
#include "dcmbridge_sr_shared.hpp"

using namespace dcmb_out;
typedef DSRTypes T;

namespace {

void check(OFCondition c, const std::string &what) {
    if (c.bad()) throw WriteError(DCMB_WRITE_INVALID_INPUT, what + ": " + c.text());
}

DSRCodedEntryValue code(const char *v, const char *s, const char *m) {
    DSRCodedEntryValue c(v, s, m);
    if (!c.isValid()) throw WriteError(DCMB_WRITE_INVALID_INPUT, std::string("invalid code ") + v);
    return c;
}

size_t add(DSRDocumentTree &t, size_t parent, T::E_RelationshipType rel, T::E_ValueType vt, const DSRCodedEntryValue &name) {
    if (t.gotoNode(parent) == 0) throw WriteError(DCMB_WRITE_ENCODING_ERROR, "SR tree: lost parent node");
    size_t id = t.addContentItem(rel, vt, T::AM_belowCurrent);
    if (id == 0) throw WriteError(DCMB_WRITE_ENCODING_ERROR, "SR tree: cannot add " + name.getCodeMeaning());
    check(t.getCurrentContentItem().setConceptName(name), "concept name " + name.getCodeMeaning());
    return id;
}

void text(DSRDocumentTree &t, size_t parent, T::E_RelationshipType rel, const DSRCodedEntryValue &name,
          const std::string &value, T::E_ValueType vt = T::VT_Text) {
    add(t, parent, rel, vt, name);
    check(t.getCurrentContentItem().setStringValue(value), name.getCodeMeaning());
}

void buildTree(DSRDocument &doc, const dcmb_sr_np_input &in) {
    DSRDocumentTree &t = doc.getTree();
    size_t root = t.addContentItem(T::RT_isRoot, T::VT_Container);
    if (root == 0) throw WriteError(DCMB_WRITE_ENCODING_ERROR, "SR tree: cannot add root container");
    check(t.getCurrentContentItem().setConceptName(code("126000", "DCM", "Imaging Measurement Report")), "root concept");
    check(t.getCurrentContentItem().setTemplateIdentification("1500", "DCMR"), "root template");
    add(t, root, T::RT_hasConceptMod, T::VT_Code, code("121049", "DCM", "Language of Content Item and Descendants"));
    check(t.getCurrentContentItem().setCodeValue(code("en-US", "RFC5646", "English (United States)")), "language");
    add(t, root, T::RT_hasObsContext, T::VT_Code, code("121005", "DCM", "Observer Type"));
    check(t.getCurrentContentItem().setCodeValue(code("121007", "DCM", "Device")), "observer type");
    text(t, root, T::RT_hasObsContext, code("121012", "DCM", "Device Observer UID"), str(in.device_observer_uid), T::VT_UIDRef);
    text(t, root, T::RT_hasObsContext, code("121013", "DCM", "Device Observer Name"), str(in.device_observer_name));
    text(t, root, T::RT_hasObsContext, code("121014", "DCM", "Device Observer Manufacturer"), str(in.context.manufacturer));
    text(t, root, T::RT_hasObsContext, code("121015", "DCM", "Device Observer Model Name"),
         str(in.algorithm_name) + " " + str(in.algorithm_version));
    add(t, root, T::RT_hasConceptMod, T::VT_Code, code("121058", "DCM", "Procedure reported"));
    check(t.getCurrentContentItem().setCodeValue(code("399208008", "SCT", "Plain X-ray of chest")), "procedure");

    size_t lib = add(t, root, T::RT_contains, T::VT_Container, code("111028", "DCM", "Image Library"));
    size_t grp = add(t, lib, T::RT_contains, T::VT_Container, code("126200", "DCM", "Image Library Group"));
    if (t.gotoNode(grp) == 0 || t.addContentItem(T::RT_contains, T::VT_Image, T::AM_belowCurrent) == 0)
        throw WriteError(DCMB_WRITE_ENCODING_ERROR, "SR tree: cannot add the examined image");
    check(t.getCurrentContentItem().setImageReference(
              DSRImageReferenceValue(str(in.source.sop_class_uid), str(in.source.sop_instance_uid))), "image reference");

    // TID 1500 row "Qualitative Evaluations": the statement and the disclaimer, no measurement group.
    size_t q = add(t, root, T::RT_contains, T::VT_Container, code("C0034375", "UMLS", "Qualitative Evaluations"));
    text(t, q, T::RT_contains, code("121106", "DCM", "Comment"), str(in.statement));
    text(t, q, T::RT_contains, code("121106", "DCM", "Comment"), str(in.disclaimer));
}

} // namespace

extern "C" int dcmb_write_sr_not_performed(const char *directory, const char *filename, const dcmb_sr_np_input *in,
                                           char *err, size_t errlen) {
    const std::string target = str(directory) + "/" + str(filename);
    return guardedWrite(target, err, errlen, [&]() -> int {
        if (!in || !present(directory) || !present(filename) || !present(in->statement))
            return fail(err, errlen, DCMB_WRITE_INVALID_INPUT, target + ": missing input");
        DSRDocument doc(T::DT_ComprehensiveSR);
        applySRContext(doc, in->context);
        check(doc.setPreliminaryFlag(T::PF_Preliminary), "PreliminaryFlag");
        buildTree(doc, *in);
        check(doc.completeDocument(), "CompletionFlag");   // COMPLETE; VerificationFlag stays UNVERIFIED
        check(doc.getCurrentRequestedProcedureEvidence().addItem(
                  str(in->source.study_instance_uid), str(in->source.series_instance_uid),
                  str(in->source.sop_class_uid), str(in->source.sop_instance_uid)), "source image evidence");
        DcmFileFormat ff;
        DcmDataset *ds = ff.getDataset();
        OFCondition c = doc.write(*ds);
        if (c.bad()) throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string("DSRDocument::write: ") + c.text());
        putPatientAndStudy(*ds, in->context);   // the one patient/study mapping of every output
        put(*ds, DCM_SeriesInstanceUID, str(in->context.series_instance_uid));
        put(*ds, DCM_SOPInstanceUID, str(in->context.sop_instance_uid));
        if (present(in->context.institution_name)) put(*ds, DCM_InstitutionName, in->context.institution_name);
        saveAtomically(ff, directory, filename);
        return DCMB_WRITE_OK;
    });
}
