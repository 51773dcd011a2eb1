// swift-tools-version:6.0
// Brixia: DICOM in -> image -> BS-Net -> scores -> store -> reports out.
import PackageDescription

let package = Package(
    name: "Brixia",
    // Linux only (inotify, /proc, Glibc, Debian's DCMTK/OpenBLAS/HDF5): no Apple platform is declared because
    // none could be met.
    products: [
        .executable(name: "brixia", targets: ["brixia"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // --- DICOM in: the only C++ in the project, behind a plain C API.
        .target(
            name: "CDcmBridge",
            cxxSettings: [.define("NDEBUG", .when(configuration: .release))],
            linkerSettings: [
                .linkedLibrary("dcmsr"), .linkedLibrary("dcmimage"), .linkedLibrary("dcmjpeg"),
                .linkedLibrary("dcmjpls"), .linkedLibrary("dcmimgle"), .linkedLibrary("dcmdata"),
                .linkedLibrary("oflog"), .linkedLibrary("ofstd"), .linkedLibrary("openjp2"),
                .linkedLibrary("dcmnet"), .linkedLibrary("z"),
            ]
        ),
        .target(name: "DicomKit", dependencies: ["CDcmBridge"]),
        // Escaping of outside text for terminals, logs and reason files (no dependencies).
        .target(name: "TextSafety"),
        // The vocabulary every module shares: lung zones, grades, exam order, trend labels, model identity, job
        // states, the project's PRNG (no dependencies).
        .target(name: "BrixiaDomain"),
        // The one executor for blocking work (swift-nio's NIOThreadPool), for every module that runs async code.
        .target(name: "BlockingExecutor", dependencies: [.product(name: "NIOPosix", package: "swift-nio")]),

        // --- image: plain image files (PNG/JPEG) and the authors' preprocessing.
        .target(name: "CImageIO", linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]),
        .target(name: "Imaging", dependencies: ["CImageIO"]),

        // --- model: the inference engine (numeric kernels live here and only here).
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        // The engine's own SGEMM micro-kernels (AVX-512 / AVX2+FMA / portable), chosen at run time from
        // cpuid; optimised in debug builds too (the engine tests run full networks).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // Kernels are optimised in debug builds too, so the engine tests (full-network parity) stay fast.
        // -Ounchecked only here: numeric code over shapes the engine itself checked. Nothing that parses a file
        // (.npy, safetensors, model.json, Keras h5) lives in this target; those are in ModelBundle, fully checked.
        .target(name: "BSNetEngine", dependencies: ["BrixiaDomain", "COpenBLAS", "CKernels"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
                                .unsafeFlags(["-O"], .when(configuration: .debug))]),

        // --- model bundles: safetensors + model.json, Keras h5 import through libhdf5.
        // libhdf5's paths come from pkg-config (Debian: hdf5-serial), not from hard-coded flags.
        .systemLibrary(name: "CHDF5Lib", path: "Sources/CHDF5Lib", pkgConfig: "hdf5-serial",
                       providers: [.apt(["libhdf5-dev"])]),
        .target(name: "CHDF5", dependencies: ["CHDF5Lib"]),
        .target(name: "ModelBundle", dependencies: [
            "BrixiaDomain", "BSNetEngine", "TextSafety", "CHDF5", .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // --- store: SQLite history (GRDB), migrations in Schemas/.
        // Migrations are embedded from Schemas/*.sql by Schemas/embed-migrations.sh (no resource bundle).
        .target(name: "Store", dependencies: ["BrixiaDomain", .product(name: "GRDB", package: "GRDB.swift")]),
        // Synthetic patient histories for the store benchmarks (`brixia dev fill-db`): dev tooling, not the product.
        .target(name: "SyntheticHistory", dependencies: ["BrixiaDomain", "Store", .product(name: "GRDB", package: "GRDB.swift")]),

        // --- reports out: DICOM SR and rendered Secondary Capture.
        .target(name: "Reports", dependencies: ["BrixiaDomain", "CDcmBridge", "DicomKit", "Imaging"]),

        // --- explainability: SLIC super-pixel occlusion maps (PNG + Secondary Capture).
        // SLIC loops are optimised in debug builds too, so the tests stay fast.
        .target(name: "Explain", dependencies: ["BrixiaDomain", "BSNetEngine", "Reports"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),

        // --- the clinical pipeline: inbox, state machine, daemon.
        .target(name: "Pipeline", dependencies: [
            "BrixiaDomain", "BlockingExecutor", "TextSafety", "DicomKit", "Imaging", "BSNetEngine", "ModelBundle", "Store", "Reports", "DicomNetwork",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // --- DICOM networking: storage SCP into the inbox, C-STORE/C-ECHO SCU, persistent outgoing queue.
        .target(name: "DicomNetwork", dependencies: [
            "CDcmBridge", "DicomKit", "Store",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // --- HTTP API and web console inside `brixia serve` (reads the store; never the other way round).
        .target(name: "HTTPConsole", dependencies: [
            "BlockingExecutor", "Store", "DicomNetwork", "Reports",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        .executableTarget(name: "brixia", dependencies: [
            "BrixiaDomain", "TextSafety", "DicomKit", "Imaging", "BSNetEngine", "ModelBundle", "Store", "Reports", "Pipeline", "Explain",
            "DicomNetwork", "HTTPConsole", "SyntheticHistory",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Helpers shared by test targets (running tools and daemons from tests); not part of the product.
        .target(name: "BrixiaTestSupport", path: "Tests/Support"),
        .testTarget(name: "DicomKitTests", dependencies: ["BrixiaDomain", "DicomKit", "Imaging"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "BSNetEngine", "ModelBundle"]),
        .testTarget(name: "EngineTests", dependencies: ["BrixiaDomain", "BSNetEngine", "ModelBundle"]),
        .testTarget(name: "ModelBundleTests", dependencies: ["TextSafety", "ModelBundle", "BSNetEngine", "Imaging"]),
        .testTarget(name: "StoreTests", dependencies: ["BrixiaDomain", "Store", "SyntheticHistory"]),
        .testTarget(name: "ReportsTests", dependencies: ["BrixiaDomain", "Reports"]),
        .testTarget(name: "PipelineTests", dependencies: ["BrixiaDomain", "BlockingExecutor", "Pipeline", "Store", "DicomKit", "ModelBundle", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "CLITests", dependencies: ["BrixiaTestSupport", "BrixiaDomain", "ModelBundle", "BSNetEngine", "Store", "brixia"]),
        .testTarget(name: "HTTPConsoleTests", dependencies: ["HTTPConsole"]),
        .testTarget(name: "ExplainTests", dependencies: ["BrixiaDomain", "Explain", "BSNetEngine", "ModelBundle", "Reports", "Imaging"], exclude: ["Fixtures"]),
        .testTarget(name: "DicomNetworkTests", dependencies: ["BrixiaTestSupport", "DicomNetwork", "DicomKit", "Store"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
