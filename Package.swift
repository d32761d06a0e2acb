// swift-tools-version:6.0
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode comes from the tools version;
/// `MemberImportVisibility` keeps each file honest about what it imports.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Distill",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "distill", targets: ["distill"]),
        // Libraries for the fuzz targets in Fuzz/ (a separate package that depends on this one).
        .library(name: "Archive", targets: ["Archive"]),
        .library(name: "APK", targets: ["APK"]),
        .library(name: "ApkoConfig", targets: ["ApkoConfig"]),
        .library(name: "DistillCrypto", targets: ["DistillCrypto"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // C libraries from the system: OpenSSL for hashing and signatures, zlib for deflate.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // <sys/xattr.h> from the C library (not in Swift's Glibc module): `pack` records xattrs.
        .systemLibrary(name: "CXattr"),

        // Package and index formats: text (versions, dependencies, .PKGINFO, APKINDEX) and the
        // signed archives (.apk read/verify/write, APKINDEX.tar.gz read/verify/write, keyrings).
        .target(
            name: "APK",
            dependencies: ["Archive", "DistillCrypto", .target(name: "CXattr", condition: .when(platforms: [.linux]))],
            swiftSettings: strictSettings
        ),
        .target(name: "DistillCrypto", dependencies: ["COpenSSL"], swiftSettings: strictSettings),
        // Uses the libyaml that Yams builds (its CYaml module) through the Yams product: the
        // config composer reads libyaml's events itself, see Sources/ApkoConfig/YAMLComposer.swift.
        .target(
            name: "ApkoConfig",
            dependencies: ["APK", "Archive", "DistillCrypto", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        .target(name: "Resolver", dependencies: ["APK"], swiftSettings: strictSettings),
        // HTTP for every module that talks to servers (repositories, registries): the client
        // protocol, its URLSession implementation, retries, size caps, credentials.
        .target(name: "HTTPTransport", swiftSettings: strictSettings),
        // Progress events (fetch, layer, write, push) and their terminal / plain-line rendering:
        // the lowest layer, so every stage can report without knowing who shows it.
        .target(name: "ProgressReporting", swiftSettings: strictSettings),
        // Repository sources (local directories, file:// and http(s) URLs), keyrings, signed
        // index loading, the on-disk cache, verified and expanded package fetching.
        .target(name: "Repository", dependencies: ["APK", "Archive", "DistillCrypto", "HTTPTransport", "ProgressReporting"],
                swiftSettings: strictSettings),

        // gzip (member-aware reader, deterministic and block-parallel writers) and tar (streaming
        // reader, deterministic writer). Depends on zlib only; no C type in its public API.
        .target(name: "Archive", dependencies: ["CZlib"], swiftSettings: strictSettings),
        // The Compose stage: installs verified packages into an in-memory tree (apk's file and
        // conflict rules), writes apk's installed-state files and apko's generated files, and
        // streams each layer's tar into a caller's sink. File bytes stay in the expanded package
        // tars until a layer is written.
        .target(name: "Rootfs", dependencies: ["APK", "Archive", "DistillCrypto"], swiftSettings: strictSettings),
        // SPDX 2.3 SBOMs. Takes image facts as plain strings, so it does not depend on OCI.
        .target(name: "SBOM", dependencies: ["APK", "Archive", "DistillCrypto"], swiftSettings: strictSettings),

        // OCI image JSON, layer blobs, the OCI layout and docker-archive writers, and the registry
        // client (over HTTPTransport).
        .target(name: "OCI", dependencies: ["Archive", "DistillCrypto", "HTTPTransport", "ProgressReporting"],
                swiftSettings: strictSettings),
        // cosign-compatible signatures (`.sig`) and SPDX attestations (`.att`) for images in an
        // OCI layout or a registry, and their verification. SBOM for its strict JSON reader and
        // SBOM file names, APK for the apk/OCI architecture names of those files.
        .target(name: "Signing", dependencies: ["OCI", "Archive", "DistillCrypto", "SBOM", "APK"], swiftSettings: strictSettings),

        // The build pipeline: config → repositories → resolution → verified packages → rootfs →
        // layers → OCI image → SBOMs → output → signatures. Orchestration only; each stage's logic
        // lives in its own module.
        .target(
            name: "Distill",
            dependencies: ["APK", "ApkoConfig", "Archive", "DistillCrypto", "HTTPTransport", "OCI", "ProgressReporting",
                           "Repository", "Resolver", "Rootfs", "SBOM", "Signing"],
            swiftSettings: strictSettings
        ),

        .executableTarget(
            name: "distill",
            dependencies: [
                "APK",
                "ApkoConfig",
                "Distill",
                "HTTPTransport",
                "ProgressReporting",
                "Repository",
                "OCI",
                "Signing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // Speed measurements (`make bench`, scripts/bench.sh), one subcommand each, printing
        // `name value unit` lines; never run by the tests.
        .executableTarget(
            name: "distill-bench",
            dependencies: [
                "APK", "Archive", "DistillCrypto", "Resolver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/DistillBench",
            swiftSettings: strictSettings),

        // Shared by the test targets: where the fixtures are, small helpers.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strictSettings),
        .testTarget(name: "APKTests", dependencies: ["APK", "Archive", "DistillCrypto", "TestSupport"],
                    swiftSettings: strictSettings),
        .testTarget(
            name: "DistillCryptoTests",
            dependencies: ["DistillCrypto", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "ApkoConfigTests", dependencies: ["ApkoConfig", "APK", "TestSupport"],
                    swiftSettings: strictSettings),
        .testTarget(name: "ResolverTests", dependencies: ["Resolver", "APK", "TestSupport"],
                    swiftSettings: strictSettings),
        .testTarget(name: "HTTPTransportTests", dependencies: ["HTTPTransport", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "RepositoryTests",
            dependencies: ["Repository", "APK", "Archive", "DistillCrypto", "HTTPTransport", "ProgressReporting", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DistillTests",
            dependencies: ["Distill", "ApkoConfig", "Repository", "Resolver", "APK", "Archive", "DistillCrypto", "OCI",
                           "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "RootfsTests", dependencies: ["Rootfs", "APK", "Archive", "DistillCrypto", "TestSupport"],
                    swiftSettings: strictSettings),
        .testTarget(name: "ProgressReportingTests", dependencies: ["ProgressReporting"], swiftSettings: strictSettings),
        // The command line as a user meets it: exit codes, one-line errors, help examples,
        // progress lines of a real build (parsed with ProgressReporting).
        .testTarget(name: "CommandLineTests", dependencies: ["ProgressReporting", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "OCITests", dependencies: ["OCI", "Archive", "DistillCrypto", "HTTPTransport", "ProgressReporting", "TestSupport"],
                    swiftSettings: strictSettings),
        // Archive and SBOM build the real images and SBOMs that get signed; APK reads the packages.
        .testTarget(
            name: "SigningTests",
            dependencies: ["Signing", "OCI", "SBOM", "APK", "Archive", "DistillCrypto", "HTTPTransport", "TestSupport"],
            swiftSettings: strictSettings
        ),
        // `distill build` end to end: the real binary, judged by the real tools (umoci, skopeo,
        // oci-image-tool, pyspdxtools, ntia-checker, syft); Archive reads layers back.
        .testTarget(name: "BuildTests", dependencies: ["Archive", "DistillCrypto", "TestSupport"],
                    swiftSettings: strictSettings),
        // Issue 9: hostile inputs against the real binary (AttackTests.swift, table in
        // AttackCases.swift and CASES.md) and SIGKILL at progress points (KillTests.swift). APK,
        // Archive and DistillCrypto craft the hostile packages and indexes and read layers back.
        .testTarget(name: "AttackTests", dependencies: ["APK", "Archive", "DistillCrypto", "TestSupport"],
                    exclude: ["CASES.md"], swiftSettings: strictSettings),
        // `make demo` end to end: scripts/demo.sh driving the real binary, its image judged by the
        // real tools (oci-image-tool, skopeo, umoci, runc, syft, pyspdxtools, ntia-checker,
        // cosign); the README's quick start, run as written against the demo repository; and the
        // README's command table, exit statuses and progress format checked against distill --help.
        .testTarget(name: "DemoTests", dependencies: ["DistillCrypto", "TestSupport"], swiftSettings: strictSettings),
        // Resolver only for realistic inputs: the real install order and dependency edges.
        .testTarget(
            name: "SBOMTests",
            dependencies: ["SBOM", "APK", "DistillCrypto", "Resolver", "TestSupport"],
            swiftSettings: strictSettings
        ),
    ]
)
