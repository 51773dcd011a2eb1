import CDcmBridge

/// Size limits for DICOM input, checked before anything proportional to a declared size is allocated, so a
/// small hostile file cannot make the reader allocate gigabytes (issue #13). 0 disables a limit.
public struct DicomLimits: Sendable, Equatable {
    /// Larger files are refused before DCMTK reads them (the whole file is loaded into memory).
    public var maxFileBytes: Int
    public var maxRows: Int
    public var maxColumns: Int
    /// NumberOfFrames.
    public var maxFrames: Int
    /// Rows x Columns x NumberOfFrames.
    public var maxPixels: Int

    /// Defaults: 16384 rows/columns, 50 Mpx, 64 frames, 256 MiB files. The largest detector images are about
    /// 4300x4300 (18.5 Mpx); 50 Mpx keeps a single decode (file + DCMTK buffers + float output + preprocessing)
    /// under about 1.5 GB RSS (docs/performance.md, "Header bombs").
    public static let `default` = DicomLimits()

    public init(maxFileBytes: Int = 256 << 20, maxRows: Int = 16384, maxColumns: Int = 16384, maxFrames: Int = 64,
                maxPixels: Int = 50_000_000) {
        self.maxFileBytes = maxFileBytes
        self.maxRows = maxRows
        self.maxColumns = maxColumns
        self.maxFrames = maxFrames
        self.maxPixels = maxPixels
    }

    var bridge: dcmb_limits {
        func u32(_ v: Int) -> UInt32 { UInt32(clamping: max(0, v)) }
        return dcmb_limits(max_file_bytes: UInt64(max(0, maxFileBytes)), max_rows: u32(maxRows), max_columns: u32(maxColumns),
                           max_frames: u32(maxFrames), max_pixels: UInt64(max(0, maxPixels)))
    }
}
