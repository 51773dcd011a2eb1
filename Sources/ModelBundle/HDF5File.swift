import CHDF5
import Foundation

/// libhdf5 (Debian's serial build) is not thread-safe: every call goes through this lock.
let hdf5Lock = NSLock()

/// Failures of the thin HDF5 layer; KerasWeightsFile turns them into KerasImportError.
enum HDF5Failure: Error {
    case notFound, wrongType, tooLarge, failed
    init(code: Int32) {
        switch code {
        case Int32(H5S_NOT_FOUND): self = .notFound
        case Int32(H5S_WRONG_TYPE): self = .wrongType
        case Int32(H5S_TOO_LARGE): self = .tooLarge
        default: self = .failed
        }
    }
}

/// An open HDF5 file (read-only, or created for test fixtures). Closed on deinit.
final class HDF5File {
    let path: String
    private let id: Int64

    enum OpenResult { case opened(HDF5File), notHDF5, unreadable }

    static func openReadOnly(path: String) -> OpenResult {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        h5s_silence_errors()
        let check = h5s_is_hdf5(path)
        if check == 0 { return .notHDF5 }
        if check < 0 { return .unreadable }
        let id = h5s_open_readonly(path)
        return id < 0 ? .unreadable : .opened(HDF5File(path: path, id: id))
    }

    static func create(path: String) -> HDF5File? {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        h5s_silence_errors()
        let id = h5s_create_truncate(path)
        return id < 0 ? nil : HDF5File(path: path, id: id)
    }

    private init(path: String, id: Int64) {
        self.path = path
        self.id = id
    }

    deinit {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        h5s_close_file(id)
    }

    func exists(_ objectPath: String) -> Bool {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        return h5s_object_exists(id, objectPath) == 1
    }

    func hasAttribute(_ name: String, on objectPath: String) -> Bool {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        return h5s_attr_exists(id, objectPath, name) == 1
    }

    /// A string attribute as a list (a scalar string gives one element).
    func stringsAttribute(_ name: String, on objectPath: String) throws(HDF5Failure) -> [String] {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        var buffer: UnsafeMutablePointer<CChar>? = nil
        var length = 0, count = 0
        let rc = h5s_attr_strings(id, objectPath, name, &buffer, &length, &count)
        guard rc == 0 else { throw HDF5Failure(code: rc) }
        defer { h5s_free(buffer) }
        guard let buffer else { return [] }
        var result: [String] = []
        result.reserveCapacity(count)
        var offset = 0
        for _ in 0..<count {
            let s = String(cString: buffer + offset)
            result.append(s)
            offset += strlen(buffer + offset) + 1
        }
        return result
    }

    struct DatasetInfo { var shape: [Int]; var isFloat: Bool; var isInteger: Bool; var elementBytes: Int }

    func datasetInfo(_ path: String) throws(HDF5Failure) -> DatasetInfo {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        var rank: Int32 = 0, typeClass: Int32 = 0, typeSize: Int32 = 0
        var dims = [Int64](repeating: 0, count: Int(H5S_MAX_RANK))
        let rc = h5s_dataset_info(id, path, &rank, &dims, &typeClass, &typeSize)
        guard rc == 0 else { throw HDF5Failure(code: rc) }
        return DatasetInfo(shape: dims.prefix(Int(rank)).map { Int($0) },
                           isFloat: typeClass == 1, isInteger: typeClass == 2, elementBytes: Int(typeSize))
    }

    /// Reads a float dataset of `count` elements as Float (libhdf5 converts float16/float64).
    func readFloats(_ path: String, count: Int) throws(HDF5Failure) -> [Float] {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        var values = [Float](repeating: 0, count: count)
        let rc = values.withUnsafeMutableBufferPointer { h5s_dataset_read_f32(id, path, $0.baseAddress, count) }
        guard rc == 0 else { throw HDF5Failure(code: rc) }
        return values
    }

    // MARK: writers (test fixtures only)

    func writeDataset(_ path: String, shape: [Int], values: [Float], elementBytes: Int = 4) throws(HDF5Failure) {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let dims = shape.map { Int64($0) }
        let rc = values.withUnsafeBufferPointer { v in
            dims.withUnsafeBufferPointer { d in
                h5s_write_dataset(id, path, Int32(dims.count), d.baseAddress, v.baseAddress, Int32(elementBytes))
            }
        }
        guard rc == 0 else { throw HDF5Failure(code: rc) }
    }

    func createGroup(_ path: String) throws(HDF5Failure) {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let rc = h5s_create_group(id, path)
        guard rc == 0 else { throw HDF5Failure(code: rc) }
    }

    /// `scalar`: one string as a scalar attribute, variable-length (h5py's str) or, with
    /// `fixedLength`, fixed-length (h5py's numpy bytes, as TF 2.2-era Keras wrote it).
    func writeStringsAttribute(_ name: String, on objectPath: String, _ strings: [String], scalar: Bool = false,
                               fixedLength: Bool = false) throws(HDF5Failure) {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let cStrings = strings.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        let pointers = cStrings.map { UnsafePointer<CChar>($0) }
        let rc = pointers.withUnsafeBufferPointer {
            h5s_write_attr_strings(id, objectPath, name, $0.baseAddress, strings.count,
                                   Int32(!scalar ? H5S_ATTR_ARRAY_FIXED : fixedLength ? H5S_ATTR_SCALAR_FIXED : H5S_ATTR_SCALAR_VLEN))
        }
        guard rc == 0 else { throw HDF5Failure(code: rc) }
    }
}
