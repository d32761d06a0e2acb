import APK
import Foundation
import Testing
import TestSupport
@testable import ApkoConfig

@Suite struct IncludeTests {
    @Test func includeIsRelativeToTheIncludingFile() throws {
        let directory = try ScratchDirectory()
        try directory.file("images/base.yaml", "contents:\n  packages: [wolfi-baselayout]\n")
        let app = try directory.file("images/app.yaml", "include: base.yaml\ncontents:\n  packages: [curl]\n")
        // Loaded from a working directory that is not the config's.
        let loaded = try ConfigLoader.load(path: app)
        #expect(loaded.configuration.contents.packages.map(\.name) == ["wolfi-baselayout", "curl"])
        #expect(loaded.files == [app, directory.root + "/images/base.yaml"])
        #expect(loaded.fileContents.map { String(decoding: $0, as: UTF8.self) } == [
            "include: base.yaml\ncontents:\n  packages: [curl]\n",
            "contents:\n  packages: [wolfi-baselayout]\n",
        ])
    }

    @Test func searchPathsAreTriedAfterTheIncludingDirectory() throws {
        let directory = try ScratchDirectory()
        try directory.file("shared/common.yaml", "environment:\n  TZ: UTC\n")
        let app = try directory.file("app/apko.yaml", "include: common.yaml\ncontents:\n  packages: [curl]\n")
        let loaded = try ConfigLoader.load(path: app, includeSearchPaths: [directory.root + "/shared"])
        #expect(loaded.configuration.environment == ["TZ": "UTC"])
    }

    @Test func workingDirectoryIsTheLastPlaceLookedIn() throws {
        // apko resolves includes against the working directory. The include below names base.yaml
        // relative to this process's working directory, and exists nowhere else.
        let directory = try ScratchDirectory()
        let cwd = FileManager.default.currentDirectoryPath.split(separator: "/")
        let target = Fixtures.url("configs/taihen-base-image/base.yaml").standardizedFileURL.path.split(separator: "/")
        let common = zip(cwd, target).prefix(while: { $0 == $1 }).count
        let relative = (Array(repeating: "..", count: cwd.count - common) + target[common...].map(String.init)).joined(separator: "/")
        let app = try directory.file("app.yaml", "include: \(relative)\ncmd: /bin/app\n")
        let loaded = try ConfigLoader.load(path: app)
        #expect(loaded.configuration.accounts.users.map(\.username) == ["nonroot"])
        #expect(loaded.files == [app, relative])
    }

    @Test func missingIncludeIsReportedAtTheIncludeLine() throws {
        let directory = try ScratchDirectory()
        let app = try directory.file("apko.yaml", "contents:\n  packages: [curl]\ninclude: ./missing.yaml\n")
        #expect {
            try ConfigLoader.load(path: app)
        } throws: { error in
            let error = error as? ConfigError
            return error?.kind == .io && error?.line == 3 && error?.column == 10
                && error?.message == "included file \"./missing.yaml\" does not exist (looked for \"\(directory.root)/missing.yaml\", \"./missing.yaml\")"
        }
    }

    @Test func cyclesAreReported() throws {
        let directory = try ScratchDirectory()
        let a = try directory.file("a.yaml", "include: b.yaml\ncontents:\n  packages: [curl]\n")
        try directory.file("b.yaml", "cmd: /bin/sh\ninclude: a.yaml\n")
        #expect {
            try ConfigLoader.load(path: a)
        } throws: { error in
            let error = error as? ConfigError
            return error?.kind == .include
                && error?.description == "\(directory.root)/b.yaml:2:10: include cycle: a.yaml → b.yaml → a.yaml"
        }
    }

    @Test func selfIncludeIsACycle() throws {
        let directory = try ScratchDirectory()
        let a = try directory.file("a.yaml", "include: ./a.yaml\n")
        #expect {
            try ConfigLoader.load(path: a)
        } throws: { error in
            (error as? ConfigError)?.message == "include cycle: a.yaml → a.yaml"
        }
    }

    @Test func remoteIncludesAreRefused() throws {
        let directory = try ScratchDirectory()
        let a = try directory.file("a.yaml", "include: https://user:pw@example.com/base.yaml\n")
        #expect {
            try ConfigLoader.load(path: a)
        } throws: { error in
            (error as? ConfigError)?.message == "include \"https://user:xxxxx@example.com/base.yaml\" must be a local file; includes are never fetched"
        }
    }

    @Test func errorsInsideAnIncludedFilePointIntoIt() throws {
        let directory = try ScratchDirectory()
        try directory.file("configs/base.yaml", "contents:\n  packages: [busybox]\nwork_dir: /x\n")
        let app = try directory.file("configs/app.yaml", "include: base.yaml\n")
        #expect {
            try ConfigLoader.load(path: app)
        } throws: { error in
            (error as? ConfigError)?.description
                == "\(directory.root)/configs/base.yaml:3:1: unknown key \"work_dir\" in the top level (did you mean \"work-dir\"?)"
        }
    }

    @Test func mergeFollowsApko() throws {
        let directory = try ScratchDirectory()
        try directory.file("base.yaml", """
            contents:
              repositories: [https://packages.wolfi.dev/os]
              keyring: [https://packages.wolfi.dev/os/wolfi-signing.rsa.pub]
              packages: [wolfi-baselayout]
            entrypoint:
              command: /usr/bin/base
            cmd: --base
            work-dir: /base
            archs: [x86_64, aarch64]
            environment: {A: base, B: base}
            annotations: {a: base}
            accounts:
              run-as: base
              users: [{username: base, uid: 100}]
            paths: [{path: /base, type: directory, permissions: 0o755}]
            volumes: [/base]
            layering: {strategy: origin, budget: 2}

            """)
        let app = try directory.file("app.yaml", """
            include: base.yaml
            contents:
              repositories: [./local]
              packages: [app]
            cmd: --app
            archs: [x86_64]
            environment: {B: app}
            annotations: {b: app}
            accounts:
              users: [{username: app, uid: 200}]
            paths: [{path: /app, type: directory, permissions: 0o700}]
            volumes: [/app]

            """)
        let config = try ConfigLoader.load(path: app).configuration
        #expect(config.contents.repositories.map(\.location) == ["https://packages.wolfi.dev/os", "./local"])
        #expect(config.contents.keyring == ["https://packages.wolfi.dev/os/wolfi-signing.rsa.pub"])
        #expect(config.contents.packages.map(\.name) == ["wolfi-baselayout", "app"])
        #expect(config.entrypoint.command == "/usr/bin/base")
        #expect(config.cmd == "--app")
        #expect(config.workDir == "/base")
        #expect(config.archs == [.amd64])
        #expect(config.environment == ["A": "base", "B": "app"])
        #expect(config.annotations == ["a": "base", "b": "app"])
        #expect(config.accounts.runAs == "base")
        #expect(config.accounts.users.map(\.username) == ["base", "app"])
        #expect(config.paths.map(\.path) == ["/base", "/app"])
        #expect(config.volumes == ["/base", "/app"])
        #expect(config.layering == Layering(budget: 2))
        #expect(config.include == "")
    }

    @Test func duplicateRuntimeKeysAcrossFilesPointAtTheSecond() throws {
        let directory = try ScratchDirectory()
        try directory.file("base.yaml", "contents:\n  runtime_keyring:\n    - {name: k.rsa.pub, content: A}\n")
        let app = try directory.file("app.yaml", "include: base.yaml\ncontents:\n  runtime_keyring:\n    - {name: k.rsa.pub, content: B}\n")
        #expect {
            try ConfigLoader.load(path: app)
        } throws: { error in
            (error as? ConfigError)?.description
                == "\(app):4:7: runtime_keyring has two keys named \"k.rsa.pub\" (the first at \(directory.root)/base.yaml:3:7); each becomes /etc/apk/keys/k.rsa.pub"
        }
    }
}

@Suite struct WarningTests {
    private func warnings(_ yaml: String) throws -> [String] {
        try ConfigLoader.parse(Array(yaml.utf8), name: "apko.yaml").warnings.map(\.description)
    }

    @Test func decimalPermissionsLookingLikeOctal() throws {
        #expect(try warnings("paths:\n  - {path: /x, type: directory, permissions: 755}\n") == [
            "apko.yaml:2:46: warning: paths[0].permissions is the decimal number 755, which is mode 0o1363; did you mean 0o755?",
        ])
        #expect(try warnings("paths:\n  - {path: /x, type: directory, permissions: 0755}\n").isEmpty)
    }

    @Test func octalForms() throws {
        for (text, mode) in [("0o755", 0o755), ("0755", 0o755), ("493", 493), ("0x1ed", 0x1ED), ("0b111101101", 0o755)] {
            let yaml = "paths:\n  - {path: /x, type: directory, permissions: \(text)}\n"
            let loaded = try ConfigLoader.parse(Array(yaml.utf8), name: "apko.yaml")
            #expect(loaded.configuration.paths[0].permissions == UInt32(mode), "\(text)")
        }
    }

    @Test func entrypointCombinationsApkoResolvesSilently() throws {
        #expect(try warnings("entrypoint:\n  command: /bin/app\n  shell-fragment: echo hi\n") == [
            "apko.yaml:2:3: warning: entrypoint has both command and shell-fragment; shell-fragment wins and command is ignored",
        ])
        #expect(try warnings("entrypoint:\n  services:\n    web: /bin/web\n") == [
            "apko.yaml:2:3: warning: entrypoint.services is ignored unless entrypoint.type is service-bundle",
        ])
        #expect(try warnings("entrypoint:\n  type: service-bundle\n  command: /bin/app\n  services: {web: /bin/web}\n") == [
            "apko.yaml:3:3: warning: entrypoint.command is replaced by \"/bin/s6-svscan /sv\" for type: service-bundle",
        ])
    }

    @Test func recursiveOnASymlink() throws {
        #expect(try warnings("paths:\n  - {path: /a, type: symlink, source: /b, recursive: true, permissions: 0o777}\n") == [
            "apko.yaml:2:5: warning: paths[0] (/a): recursive only applies to directory and permissions; it is ignored for symlink",
        ])
    }

    @Test func yaml11BooleansOnlyForBooleanFields() throws {
        let loaded = try ConfigLoader.parse(Array("cmd: yes\npaths:\n  - {path: /a, type: directory, recursive: on}\n".utf8), name: "apko.yaml")
        #expect(loaded.configuration.cmd == "yes")
        #expect(loaded.configuration.paths[0].recursive)
    }

    @Test func scalarsInStringFieldsKeepTheirText() throws {
        let loaded = try ConfigLoader.parse(Array("archs: [386]\naccounts:\n  run-as: 65532\nstop-signal: 15\nwork-dir: ~\n".utf8), name: "apko.yaml")
        #expect(loaded.configuration.archs == [.x86])
        #expect(loaded.configuration.accounts.runAs == "65532")
        #expect(loaded.configuration.stopSignal == "15")
        #expect(loaded.configuration.workDir == "")
    }
}
