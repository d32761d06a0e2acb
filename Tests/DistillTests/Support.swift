import ApkoConfig
import Distill
import Foundation
import Repository
import TestSupport

/// Workspaces laid out like apko's `internal/cli` test directory, so the fixture configs load
/// unchanged: `apko.yaml` (the fixture's bytes), `testdata/melange.rsa.pub` and
/// `testdata/packages/<arch>/…` (links to the fixture repository).
enum Workspace {
    static func apkoTestRepo() throws -> ScratchDirectory {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("testdata"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: scratch.path("testdata/packages"),
                                                   withDestinationPath: Fixtures.url("apko-testrepo").path)
        try FileManager.default.createSymbolicLink(atPath: scratch.path("testdata/melange.rsa.pub"),
                                                   withDestinationPath: Fixtures.url("apko-testrepo/melange.rsa.pub").path)
        try scratch.write("apko.yaml", try Fixtures.data("apko-testrepo/apko.yaml"))
        return scratch
    }

    /// A config in `scratch` with absolute paths (library tests run in the package directory).
    static func config(_ scratch: ScratchDirectory, name: String = "apko.yaml", repositories: [String], keyring: [String],
                       packages: [String], archs: [String]) throws -> LoadedConfig {
        func list(_ items: [String]) -> String { "[" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        try scratch.write(name, text: """
            contents:
              repositories: \(list(repositories))
              keyring: \(list(keyring))
              packages: \(list(packages))
            archs: \(list(archs))
            """)
        return try ConfigLoader.load(path: scratch.path(name))
    }

    static func pipeline(_ scratch: ScratchDirectory, concurrency: Int = 6) -> Pipeline {
        Pipeline(options: RepositoryOptions(cache: RepositoryCache(root: scratch.path("cache")), maximumConcurrentFetches: concurrency))
    }
}

/// apko's own lock of this config and fixture repository: chainguard-dev/apko
/// `internal/cli/testdata/apko.lock.json` at c189124d (the commit whose packages are the
/// fixtures'). `distill lock` must write exactly these bytes.
enum ApkoGolden {
    static let lock = #"""
{
  "version": "v1",
  "config": {
    "name": "apko.yaml",
    "checksum": "sha256-eal7+HCFuOLz/8m3vNO5cYyNK0Zw7AphCcsc76TbTXg="
  },
  "contents": {
    "keyring": [
      {
        "name": "./testdata/melange.rsa.pub",
        "url": "./testdata/melange.rsa.pub"
      }
    ],
    "build_repositories": [],
    "runtime_repositories": [],
    "repositories": [
      {
        "name": "./testdata/packages/x86_64",
        "url": "./testdata/packages/x86_64/APKINDEX.tar.gz",
        "architecture": "x86_64"
      },
      {
        "name": "./testdata/packages/aarch64",
        "url": "./testdata/packages/aarch64/APKINDEX.tar.gz",
        "architecture": "aarch64"
      }
    ],
    "packages": [
      {
        "name": "pretend-baselayout",
        "url": "./testdata/packages/x86_64/pretend-baselayout-1.0.0-r0.apk",
        "version": "1.0.0-r0",
        "architecture": "x86_64",
        "signature": {
          "range": "bytes=0-646",
          "checksum": "sha1-S+THz+JYZxcNzNCw2jI9YlnDnE4="
        },
        "control": {
          "range": "bytes=647-1628",
          "checksum": "sha1-m6wB0UFePGN8Drz82pC8y2uAiu8="
        },
        "data": {
          "range": "bytes=1629-2929",
          "checksum": "sha256-ckBapsaMu5EOb/e4Ei1s2l/+dZMEamHhUmaoJ8yeZwg="
        },
        "checksum": "Q1m6wB0UFePGN8Drz82pC8y2uAiu8="
      },
      {
        "name": "replayout",
        "url": "./testdata/packages/x86_64/replayout-1.0.0-r0.apk",
        "version": "1.0.0-r0",
        "architecture": "x86_64",
        "signature": {
          "range": "bytes=0-646",
          "checksum": "sha1-M3D5FSI+rv4Qe3oJqVtR1CvOVKE="
        },
        "control": {
          "range": "bytes=647-1660",
          "checksum": "sha1-1/HhSewwwOXgl0r0ffb0O0BRtYc="
        },
        "data": {
          "range": "bytes=1661-2960",
          "checksum": "sha256-zmiHBvaqKHsF8CxQeHa0M4mZKwj7T4T5kRe9VpTkXUw="
        },
        "checksum": "Q11/HhSewwwOXgl0r0ffb0O0BRtYc="
      },
      {
        "name": "pretend-baselayout",
        "url": "./testdata/packages/aarch64/pretend-baselayout-1.0.0-r0.apk",
        "version": "1.0.0-r0",
        "architecture": "aarch64",
        "signature": {
          "range": "bytes=0-647",
          "checksum": "sha1-DaCiv+fkcPqYlZ1j6qUAyjvaaWQ="
        },
        "control": {
          "range": "bytes=648-1628",
          "checksum": "sha1-JQ8nfsxa27d0f6oa056sdT5IcJY="
        },
        "data": {
          "range": "bytes=1629-2929",
          "checksum": "sha256-cY5bE593kEpYKyqepLmkPc/RnAiPsIsm92XAHwi+U9I="
        },
        "checksum": "Q1JQ8nfsxa27d0f6oa056sdT5IcJY="
      },
      {
        "name": "replayout",
        "url": "./testdata/packages/aarch64/replayout-1.0.0-r0.apk",
        "version": "1.0.0-r0",
        "architecture": "aarch64",
        "signature": {
          "range": "bytes=0-646",
          "checksum": "sha1-/2EQJW+59r1Vbi3AxFA7e9brusw="
        },
        "control": {
          "range": "bytes=647-1655",
          "checksum": "sha1-u62watWiRSQgVtAIuVuYoDOaVO4="
        },
        "data": {
          "range": "bytes=1656-2954",
          "checksum": "sha256-IMtgng48z5PaYwqYWLrGUKoaZUHFmigOnKRJ7KcmTQo="
        },
        "checksum": "Q1u62watWiRSQgVtAIuVuYoDOaVO4="
      }
    ]
  }
}

"""#
}
