/// Typed model of one DICOM instance (header only; pixels are decoded separately by `DicomFile`).
public struct DicomInstance: Sendable, Equatable {
    public struct Patient: Sendable, Equatable {
        public var id: String
        public var issuerOfPatientID: String
        /// Decoded from the declared SpecificCharacterSet by DCMTK (every set it can convert); without a
        /// declaration, UTF-8 when the bytes are valid UTF-8, else Latin-1 (docs/dicom-input.md).
        public var name: String
        public var sex: String
        public var birthDate: String
        /// Species description (0010,2201); empty for human patients.
        public var speciesDescription: String
        /// PatientAge (0010,1010), e.g. "063Y"; empty when absent.
        public var age: String = ""
        /// Other Patient IDs Sequence (0010,1002) items.
        public var otherIDs: [OtherPatientID] = []
    }
    public struct OtherPatientID: Sendable, Equatable {
        public var id: String
        public var issuer: String
        /// TypeOfPatientID (0010,0022): TEXT, RFID or BARCODE.
        public var type: String
        public init(id: String, issuer: String, type: String) { self.id = id; self.issuer = issuer; self.type = type }
    }
    /// Issuer of Accession Number Sequence (0008,0051), first item.
    public struct Issuer: Sendable, Equatable {
        public var localNamespace: String
        public var universalID: String
        public var universalIDType: String
        public init(localNamespace: String, universalID: String, universalIDType: String) {
            self.localNamespace = localNamespace; self.universalID = universalID; self.universalIDType = universalIDType
        }
        public var isEmpty: Bool { localNamespace.isEmpty && universalID.isEmpty }
    }
    public struct Study: Sendable, Equatable {
        public var instanceUID: String
        public var date: String
        public var time: String
        public var accessionNumber: String
        public var description: String
        /// StudyID (0020,0010).
        public var id: String = ""
        public var referringPhysicianName: String = ""
        public var accessionIssuer: Issuer? = nil
        /// TimezoneOffsetFromUTC (0008,0201), "+HHMM" / "-HHMM".
        public var timezoneOffsetFromUTC: String = ""
    }
    public struct Series: Sendable, Equatable {
        public var instanceUID: String
        public var number: Int?
        public var modality: String
        public var bodyPartExamined: String
        public var viewPosition: String
        public var description: String
        public var manufacturer: String
        public var protocolName: String
    }
    public struct Instance: Sendable, Equatable {
        public var sopClassUID: String
        public var sopInstanceUID: String
        public var acquisitionDate: String
        public var acquisitionTime: String
        /// ImageType values, e.g. ["ORIGINAL", "PRIMARY"].
        public var imageType: [String]
        public var numberOfFrames: Int
        /// "FOR PRESENTATION", "FOR PROCESSING" or "" when absent.
        public var presentationIntentType: String
        public var acquisitionDeviceProcessingDescription: String
        public var patientOrientation: String
        public var imageLaterality: String
    }
    public struct PixelSpacing: Sendable, Equatable {
        public enum Source: String, Sendable { case pixelSpacing = "PixelSpacing", imagerPixelSpacing = "ImagerPixelSpacing" }
        /// Millimetres between row centres and between column centres.
        public var row: Double
        public var column: Double
        public var source: Source
    }
    public struct Geometry: Sendable, Equatable {
        public var rows: Int
        public var columns: Int
        public var bitsAllocated: Int
        public var bitsStored: Int
        public var pixelRepresentation: Int
        public var samplesPerPixel: Int
        public var photometricInterpretation: String
        /// PixelSpacing, else ImagerPixelSpacing; a zero or negative value counts as missing.
        public var pixelSpacing: PixelSpacing?
    }
    public struct Presentation: Sendable, Equatable {
        public var windowCenters: [Double]
        public var windowWidths: [Double]
        public var voiLUTCount: Int
        public var presentationLUTShape: String
        public var rescaleSlope: Double
        public var rescaleIntercept: Double
    }

    public var path: String
    public var hasFileMeta: Bool
    public var transferSyntaxUID: String
    /// As declared in the file; every text value above was converted from it to Unicode by DCMTK.
    public var specificCharacterSet: String
    public var patient: Patient
    public var study: Study
    public var series: Series
    public var instance: Instance
    public var geometry: Geometry
    public var presentation: Presentation
    public var hasPixelData: Bool
    public var pixelDataEncapsulated: Bool
    /// View Code Sequence (0054,0220) items, in order (empty when absent).
    public var viewCodes: [CodedEntry] = []
    /// Lossy Image Compression (0028,2110) "00"/"01" ("" when absent), ratio (0028,2112) and method (0028,2114).
    public var lossyImageCompression: String = ""
    public var lossyImageCompressionRatio: [Double] = []
    public var lossyImageCompressionMethod: [String] = []

    /// A code triplet from a header sequence.
    public struct CodedEntry: Sendable, Equatable {
        public var value: String
        public var scheme: String
        public var meaning: String
        public init(value: String, scheme: String, meaning: String) { self.value = value; self.scheme = scheme; self.meaning = meaning }
    }

    public var transferSyntaxName: String { TransferSyntax.name(transferSyntaxUID) }
    public var isMonochrome: Bool {
        geometry.samplesPerPixel == 1
            && (geometry.photometricInterpretation == "MONOCHROME1" || geometry.photometricInterpretation == "MONOCHROME2")
    }
}
