// RGB Secondary Capture (1.2.840.10008.5.1.4.1.1.7) carrying the rendered Brixia report page.
#include "dcmtk/config/osconfig.h"   // must come first
#include "dcmtk/dcmdata/dctk.h"
#include "dcmbridge_out.hpp"
#include "dcmbridge_sc.h"

using namespace dcmb_out;

namespace {

void buildDataset(DcmDataset &ds, const dcmb_sc_input &in) {
    const dcmb_context &c = in.context;
    putCommon(ds, c, UID_SecondaryCaptureImageStorage, "OT");
    // Laterality is type 2C: present and empty, the page shows both lungs
    put(ds, DCM_Laterality, "");
    // General Equipment + SC Equipment
    put(ds, DCM_Manufacturer, str(c.manufacturer));
    if (present(c.institution_name)) put(ds, DCM_InstitutionName, c.institution_name);
    if (present(c.manufacturer_model_name)) put(ds, DCM_ManufacturerModelName, c.manufacturer_model_name);
    if (present(c.device_serial_number)) put(ds, DCM_DeviceSerialNumber, c.device_serial_number);
    if (present(c.software_versions)) put(ds, DCM_SoftwareVersions, c.software_versions);
    put(ds, DCM_ConversionType, "WSD");
    put(ds, DCM_SecondaryCaptureDeviceManufacturer, str(c.manufacturer));
    if (present(c.manufacturer_model_name))
        put(ds, DCM_SecondaryCaptureDeviceManufacturerModelName, c.manufacturer_model_name);
    if (present(c.software_versions)) put(ds, DCM_SecondaryCaptureDeviceSoftwareVersions, c.software_versions);
    put(ds, DCM_DateOfSecondaryCapture, str(c.content_date));
    put(ds, DCM_TimeOfSecondaryCapture, str(c.content_time));
    // General Image
    put(ds, DCM_InstanceNumber, str(c.instance_number));
    put(ds, DCM_PatientOrientation, "");
    put(ds, DCM_ContentDate, str(c.content_date));
    put(ds, DCM_ContentTime, str(c.content_time));
    put(ds, DCM_ImageType, "DERIVED\\SECONDARY");
    put(ds, DCM_BurnedInAnnotation, "YES");
    put(ds, DCM_RecognizableVisualFeatures, "NO");
    put(ds, DCM_LossyImageCompression, in.source_lossy ? "01" : "00");
    if (in.source_lossy && present(in.lossy_ratio)) put(ds, DCM_LossyImageCompressionRatio, in.lossy_ratio);
    if (in.source_lossy && present(in.lossy_method)) put(ds, DCM_LossyImageCompressionMethod, in.lossy_method);
    if (present(in.derivation_description)) put(ds, DCM_DerivationDescription, in.derivation_description);
    if (present(in.source.sop_instance_uid)) {
        DcmItem *ref = nullptr;
        OFCondition cd = ds.findOrCreateSequenceItem(DCM_SourceImageSequence, ref, 0);
        if (cd.bad() || !ref) throw WriteError(DCMB_WRITE_ENCODING_ERROR, "cannot create SourceImageSequence");
        put(*ref, DCM_ReferencedSOPClassUID, str(in.source.sop_class_uid));
        put(*ref, DCM_ReferencedSOPInstanceUID, str(in.source.sop_instance_uid));
    }
    // Image Pixel: 8-bit interleaved RGB
    put(ds, DCM_PhotometricInterpretation, "RGB");
    OFCondition cd;
    if ((cd = ds.putAndInsertUint16(DCM_SamplesPerPixel, 3)).bad() ||
        (cd = ds.putAndInsertUint16(DCM_PlanarConfiguration, 0)).bad() ||
        (cd = ds.putAndInsertUint16(DCM_Rows, static_cast<Uint16>(in.rows))).bad() ||
        (cd = ds.putAndInsertUint16(DCM_Columns, static_cast<Uint16>(in.cols))).bad() ||
        (cd = ds.putAndInsertUint16(DCM_BitsAllocated, 8)).bad() ||
        (cd = ds.putAndInsertUint16(DCM_BitsStored, 8)).bad() ||
        (cd = ds.putAndInsertUint16(DCM_HighBit, 7)).bad() ||
        (cd = ds.putAndInsertUint16(DCM_PixelRepresentation, 0)).bad())
        throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string("image pixel module: ") + cd.text());
    const unsigned long n = static_cast<unsigned long>(in.rows) * in.cols * 3;
    cd = ds.putAndInsertUint8Array(DCM_PixelData, in.rgb, n);   // n is even unless rows*cols is odd; DCMTK pads
    if (cd.bad()) throw WriteError(DCMB_WRITE_ENCODING_ERROR, std::string("PixelData: ") + cd.text());
}

} // namespace

extern "C" int dcmb_write_sc(const char *directory, const char *filename, const dcmb_sc_input *in,
                             char *err, size_t errlen) {
    const std::string target = str(directory) + "/" + str(filename);
    return guardedWrite(target, err, errlen, [&]() -> int {
        if (!in || !present(directory) || !present(filename) || !in->rgb)
            return fail(err, errlen, DCMB_WRITE_INVALID_INPUT, target + ": missing input");
        if (in->rows == 0 || in->cols == 0 || in->rows > 65535 || in->cols > 65535)
            return fail(err, errlen, DCMB_WRITE_INVALID_INPUT, target + ": image size out of range");
        DcmFileFormat ff;
        buildDataset(*ff.getDataset(), *in);
        saveAtomically(ff, directory, filename);
        return DCMB_WRITE_OK;
    });
}
