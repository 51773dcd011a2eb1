// FRACTIONAL Segmentation (1.2.840.10008.5.1.4.1.1.66.4; PROBABILITY, maximum 255) of one frame on the grid
// of a projection X-ray. Built attribute by attribute like the Secondary Capture, not with DCMTK dcmseg:
// dcmseg 3.6.7 always writes a Frame of Reference and then demands patient geometry (plane position and
// orientation) that a projection image does not have. Without a Frame of Reference the segmentation maps to
// its source pixel by pixel through the Derivation Image reference (same rows and columns).
#include "dcmtk/config/osconfig.h"   // must come first
#include "dcmtk/dcmdata/dctk.h"
#include "dcmbridge_out.hpp"
#include "dcmbridge_seg.h"
#include <cstdio>

using namespace dcmb_out;

namespace {

DcmItem &item(DcmItem &parent, const DcmTagKey &seq, unsigned long index = 0) {
    DcmItem *it = nullptr;
    OFCondition c = parent.findOrCreateSequenceItem(seq, it, static_cast<signed long>(index));
    if (c.bad() || !it) throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string("cannot create sequence ") + DcmTag(seq).getTagName());
    return *it;
}

void putCode(DcmItem &parent, const DcmTagKey &seq, const char *value, const char *scheme, const char *meaning) {
    DcmItem &c = item(parent, seq);
    put(c, DCM_CodeValue, str(value));
    put(c, DCM_CodingSchemeDesignator, str(scheme));
    put(c, DCM_CodeMeaning, str(meaning));
}

void putU16(DcmItem &ds, const DcmTagKey &tag, Uint16 v) {
    OFCondition c = ds.putAndInsertUint16(tag, v);
    if (c.bad()) throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string(DcmTag(tag).getTagName()) + ": " + c.text());
}

void putAT(DcmItem &ds, const DcmTagKey &tag, const DcmTagKey &value) {
    OFCondition c = ds.putAndInsertTagKey(tag, value);
    if (c.bad()) throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string(DcmTag(tag).getTagName()) + ": " + c.text());
}

// Source image reference with its purpose, as the Derivation Image functional group wants it.
void derivation(DcmItem &fg, const dcmb_seg_input &in) {
    DcmItem &d = item(fg, DCM_DerivationImageSequence);
    if (present(in.derivation_description)) put(d, DCM_DerivationDescription, in.derivation_description);
    putCode(d, DCM_DerivationCodeSequence, "113076", "DCM", "Segmentation");
    DcmItem &s = item(d, DCM_SourceImageSequence);
    put(s, DCM_ReferencedSOPClassUID, str(in.source.sop_class_uid));
    put(s, DCM_ReferencedSOPInstanceUID, str(in.source.sop_instance_uid));
    putCode(s, DCM_PurposeOfReferenceCodeSequence, "121322", "DCM", "Source image for image processing operation");
    // The segmentation is on the source's own pixel grid: readers (highdicom) may then map it by source instance.
    put(s, DCM_SpatialLocationsPreserved, "YES");
}

void buildDataset(DcmDataset &ds, const dcmb_seg_input &in, const std::string &serial) {
    const dcmb_context &c = in.context;
    putCommon(ds, c, UID_SegmentationStorage, "SEG");
    // General + Enhanced General Equipment (the latter makes all four type 1)
    put(ds, DCM_Manufacturer, str(c.manufacturer));
    put(ds, DCM_ManufacturerModelName, present(c.manufacturer_model_name) ? c.manufacturer_model_name : str(c.manufacturer));
    put(ds, DCM_DeviceSerialNumber, serial);
    put(ds, DCM_SoftwareVersions, present(c.software_versions) ? c.software_versions : "unknown");
    if (present(c.institution_name)) put(ds, DCM_InstitutionName, c.institution_name);
    // General Image
    put(ds, DCM_InstanceNumber, str(c.instance_number));
    put(ds, DCM_PatientOrientation, str(in.patient_orientation));   // type 2C, copied from the source
    put(ds, DCM_ContentDate, str(c.content_date));
    put(ds, DCM_ContentTime, str(c.content_time));
    // Image Pixel
    putU16(ds, DCM_SamplesPerPixel, 1);
    put(ds, DCM_PhotometricInterpretation, "MONOCHROME2");
    putU16(ds, DCM_Rows, static_cast<Uint16>(in.rows));
    putU16(ds, DCM_Columns, static_cast<Uint16>(in.cols));
    putU16(ds, DCM_BitsAllocated, 8);
    putU16(ds, DCM_BitsStored, 8);
    putU16(ds, DCM_HighBit, 7);
    putU16(ds, DCM_PixelRepresentation, 0);
    // Segmentation Image
    put(ds, DCM_ImageType, "DERIVED\\PRIMARY");
    put(ds, DCM_ContentLabel, str(in.content_label));
    put(ds, DCM_ContentDescription, str(in.content_description));
    put(ds, DCM_ContentCreatorName, str(c.manufacturer) + "^AI");   // PN family^given
    put(ds, DCM_SegmentationType, "FRACTIONAL");
    put(ds, DCM_SegmentationFractionalType, "PROBABILITY");
    putU16(ds, DCM_MaximumFractionalValue, 255);
    put(ds, DCM_LossyImageCompression, "00");
    DcmItem &segment = item(ds, DCM_SegmentSequence);
    putU16(segment, DCM_SegmentNumber, 1);
    put(segment, DCM_SegmentLabel, str(in.segment_label));
    if (present(in.segment_description)) put(segment, DCM_SegmentDescription, in.segment_description);
    put(segment, DCM_SegmentAlgorithmType, "AUTOMATIC");
    put(segment, DCM_SegmentAlgorithmName, str(in.algorithm_name));
    putCode(segment, DCM_SegmentedPropertyCategoryCodeSequence, in.category.value, in.category.scheme, in.category.meaning);
    putCode(segment, DCM_SegmentedPropertyTypeCodeSequence, in.type.value, in.type.scheme, in.type.meaning);
    // Multi-frame Functional Groups: one frame; pixel spacing shared when the source has it
    put(ds, DCM_NumberOfFrames, "1");
    DcmItem &shared = item(ds, DCM_SharedFunctionalGroupsSequence);
    if (in.pixel_spacing_row > 0 && in.pixel_spacing_col > 0) {
        char v[64];
        std::snprintf(v, sizeof v, "%.6g\\%.6g", in.pixel_spacing_row, in.pixel_spacing_col);
        DcmItem &measures = item(shared, DCM_PixelMeasuresSequence);
        put(measures, DCM_PixelSpacing, v);
        // Meaningless for a projection image, but readers (highdicom) require it beside PixelSpacing; 1 mm is
        // what highdicom itself writes for a source without SliceThickness.
        put(measures, DCM_SliceThickness, "1");
    }
    DcmItem &frame = item(ds, DCM_PerFrameFunctionalGroupsSequence);
    Uint32 index = 1;
    OFCondition cd = item(frame, DCM_FrameContentSequence).putAndInsertUint32Array(DCM_DimensionIndexValues, &index, 1);
    if (cd.bad()) throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string("DimensionIndexValues: ") + cd.text());
    derivation(frame, in);
    putU16(item(frame, DCM_SegmentIdentificationSequence), DCM_ReferencedSegmentNumber, 1);
    // Multi-frame Dimension: the only dimension is the segment (UID under Brixia's root, from the caller)
    const std::string dimUID = str(in.dimension_organization_uid);
    put(item(ds, DCM_DimensionOrganizationSequence), DCM_DimensionOrganizationUID, dimUID);
    DcmItem &dim = item(ds, DCM_DimensionIndexSequence);
    put(dim, DCM_DimensionOrganizationUID, dimUID);
    putAT(dim, DCM_DimensionIndexPointer, DCM_ReferencedSegmentNumber);
    putAT(dim, DCM_FunctionalGroupPointer, DCM_SegmentIdentificationSequence);
    put(dim, DCM_DimensionDescriptionLabel, "Segment");
    // Common Instance Reference: the source image, in this study
    DcmItem &series = item(ds, DCM_ReferencedSeriesSequence);
    put(series, DCM_SeriesInstanceUID, str(in.source.series_instance_uid));
    DcmItem &inst = item(series, DCM_ReferencedInstanceSequence);
    put(inst, DCM_ReferencedSOPClassUID, str(in.source.sop_class_uid));
    put(inst, DCM_ReferencedSOPInstanceUID, str(in.source.sop_instance_uid));
    // Pixel data: 8-bit fractions
    const unsigned long n = static_cast<unsigned long>(in.rows) * in.cols;
    cd = ds.putAndInsertUint8Array(DCM_PixelData, in.fractions, n);
    if (cd.bad()) throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string("PixelData: ") + cd.text());
}

} // namespace

extern "C" int dcmb_write_seg(const char *directory, const char *filename, const dcmb_seg_input *in,
                              char *err, size_t errlen) {
    const std::string target = str(directory) + "/" + str(filename);
    return guardedWrite(target, err, errlen, [&]() -> int {
        if (!in || !present(directory) || !present(filename) || !in->fractions)
            return fail(err, errlen, DCMB_WRITE_INVALID_INPUT, target + ": missing input");
        if (in->rows == 0 || in->cols == 0 || in->rows > 65535 || in->cols > 65535)
            return fail(err, errlen, DCMB_WRITE_INVALID_INPUT, target + ": image size out of range");
        if (!present(in->source.sop_instance_uid) || !present(in->source.sop_class_uid) || !present(in->source.series_instance_uid))
            return fail(err, errlen, DCMB_WRITE_INVALID_INPUT,
                        target + ": a segmentation needs the source image's SOP class, SOP instance and series UIDs");
        if (!present(in->dimension_organization_uid))
            return fail(err, errlen, DCMB_WRITE_INVALID_INPUT, target + ": missing Dimension Organization UID");
        // Device Serial Number is type 1 here. Without a configured one it says so: the host name would leak
        // the machine's name to every PACS the object reaches.
        std::string serial = str(in->context.device_serial_number);
        if (serial.empty()) serial = "not configured";
        DcmFileFormat ff;
        buildDataset(*ff.getDataset(), *in, serial);
        saveAtomically(ff, directory, filename);
        return DCMB_WRITE_OK;
    });
}
