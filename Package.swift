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
            dependencies: ["APK", "DistillCrypto", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        .target(name: "Resolver", dependencies: ["APK"], swiftSettings: strictSettings),

        // gzip (member-aware reader, deterministic and block-parallel writers) and tar (streaming
        // reader, deterministic writer). Depends on zlib only; no C type in its public API.
        .target(name: "Archive", dependencies: ["CZlib"], swiftSettings: strictSettings),
        // The Compose stage: installs verified packages into an in-memory tree (apk's file and
        // conflict rules), writes apk's installed-state files and apko's generated files, and
        // streams each layer's tar into a caller's sink. File bytes stay in the expanded package
        // tars until a layer is written.
        .target(name: "Rootfs", dependencies: ["APK", "Archive", "DistillCrypto"], swiftSettings: strictSettings),
        // SPDX 2.3 SBOMs. Takes image facts as plain strings, so it does not depend on OCI.
        .target(name: "SBOM", dependencies: ["APK", "DistillCrypto"], swiftSettings: strictSettings),

        // OCI image JSON, layer blobs, the OCI layout and docker-archive writers, and the registry
        // client (URLSession through FoundationNetworking behind its own HTTPClient protocol).
        .target(name: "OCI", dependencies: ["Archive", "DistillCrypto"], swiftSettings: strictSettings),

        .executableTarget(
            name: "distill",
            dependencies: [
                "APK",
                "ApkoConfig",
                "OCI",
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
        .testTarget(name: "RootfsTests", dependencies: ["Rootfs", "APK", "Archive", "DistillCrypto", "TestSupport"],
                    swiftSettings: strictSettings),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "OCITests", dependencies: ["OCI", "Archive", "DistillCrypto", "TestSupport"],
                    swiftSettings: strictSettings),
        // Resolver only for realistic inputs: the real install order and dependency edges.
        .testTarget(
            name: "SBOMTests",
            dependencies: ["SBOM", "APK", "DistillCrypto", "Resolver", "TestSupport"],
            swiftSettings: strictSettings
        ),
    ]
)
