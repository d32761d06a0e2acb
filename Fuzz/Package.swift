// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for Distill's parsers, kept out of the main package so its `.build` is never
// rebuilt with sanitizers. Build and run them with `make fuzz` (scripts/fuzz.sh), which builds with
// `--sanitize=fuzzer --sanitize=address` into `../.build-fuzz`: libFuzzer supplies `main`, and
// each target exports `LLVMFuzzerTestOneInput`.

/// The same upcoming features the main package uses.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"),
    // libFuzzer provides main(); the targets only define the C entry point.
    .unsafeFlags(["-parse-as-library"]),
]

/// One executable per parser; `dependencies` are products of the main package.
func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: "Distill") },
        path: "Sources/\(name)",
        swiftSettings: strictSettings
    )
}

let package = Package(
    name: "DistillFuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Distill", path: ".."),
    ],
    targets: [
        // The keyring and small helpers the targets share.
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "APK", package: "Distill"), .product(name: "DistillCrypto", package: "Distill")],
            swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]
        ),
        fuzzTarget("fuzz-gzip", ["Archive"]),
        fuzzTarget("fuzz-tar", ["Archive"]),
        fuzzTarget("fuzz-apkindex", ["APK", "Archive"]),
        fuzzTarget("fuzz-pkginfo", ["APK"]),
        fuzzTarget("fuzz-config", ["ApkoConfig"]),
        fuzzTarget("fuzz-apk", ["APK", "Archive", "DistillCrypto"]),
        fuzzTarget("fuzz-dependency", ["APK"]),
    ]
)
