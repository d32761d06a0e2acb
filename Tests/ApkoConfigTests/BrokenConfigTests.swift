import Testing
@testable import ApkoConfig

/// Each broken config gives its own message, at the right line and column.
@Suite struct BrokenConfigTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var kind: ConfigError.Kind
        var line: Int
        var column: Int
        var message: String
        var testDescription: String { name }
    }

    static let base = """
        contents:
          repositories:
            - https://packages.wolfi.dev/os
          packages:
            - wolfi-base

        """

    static let cases: [Case] = [
        Case(name: "typo at the top level", yaml: base + "workdir: /app\n",
             kind: .unknownKey, line: 6, column: 1,
             message: "unknown key \"workdir\" in the top level (did you mean \"work-dir\"?)"),
        Case(name: "typo in contents", yaml: "contents:\n  pacakges:\n    - busybox\n",
             kind: .unknownKey, line: 2, column: 3,
             message: "unknown key \"pacakges\" in contents (did you mean \"packages\"?)"),
        Case(name: "key in the wrong section", yaml: "contents:\n  repositories: [https://x.dev/os]\npackages:\n  - busybox\n",
             kind: .unknownKey, line: 3, column: 1,
             message: "unknown key \"packages\" in the top level (it belongs under \"contents\")"),
        Case(name: "removed key", yaml: base + "options:\n  foo: {}\n",
             kind: .unknownKey, line: 6, column: 1,
             message: "unknown key \"options\" in the top level (apko removed `options` in 2024; add packages with --package-append instead)"),
        Case(name: "typo in a user", yaml: base + "accounts:\n  users:\n    - usename: app\n      uid: 1000\n",
             kind: .unknownKey, line: 8, column: 7,
             message: "unknown key \"usename\" in accounts.users[0] (did you mean \"username\"?)"),
        Case(name: "contents is a list", yaml: "contents:\n  - busybox\n",
             kind: .wrongType, line: 2, column: 3,
             message: "contents must be a mapping of keys to values, not a list"),
        Case(name: "packages is a string", yaml: "contents:\n  packages: busybox\n",
             kind: .wrongType, line: 2, column: 13,
             message: "contents.packages must be a list, not the scalar \"busybox\"; write it as a list item: \"- busybox\""),
        Case(name: "uid is text", yaml: base + "accounts:\n  users:\n    - username: app\n      uid: app\n",
             kind: .wrongType, line: 9, column: 12,
             message: "accounts.users[0].uid must be a whole number from 0 to 4294967295, not the scalar \"app\""),
        Case(name: "uid is quoted", yaml: base + "accounts:\n  users:\n    - username: app\n      uid: \"1000\"\n",
             kind: .wrongType, line: 9, column: 12,
             message: "accounts.users[0].uid must be a whole number from 0 to 4294967295, not the scalar \"1000\" (remove the quotes)"),
        Case(name: "uid is negative", yaml: base + "accounts:\n  users:\n    - username: app\n      uid: -1\n",
             kind: .invalidValue, line: 9, column: 12,
             message: "accounts.users[0].uid must be a whole number from 0 to 4294967295, not -1"),
        Case(name: "uid overflows", yaml: base + "accounts:\n  users:\n    - username: app\n      uid: 4294967296\n",
             kind: .invalidValue, line: 9, column: 12,
             message: "accounts.users[0].uid must be a whole number from 0 to 4294967295, not 4294967296"),
        Case(name: "uid 0 user", yaml: base + "accounts:\n  users:\n    - username: admin\n      uid: 0\n",
             kind: .invalidValue, line: 9, column: 12,
             message: "accounts.users[0].uid is 0: a configured user cannot be root (to run as root, use `run-as: 0`)"),
        Case(name: "user without uid", yaml: base + "accounts:\n  users:\n    - username: app\n      shell: /bin/ash\n",
             kind: .invalidValue, line: 8, column: 7,
             message: "accounts.users[0] (app) has no uid"),
        Case(name: "group without name", yaml: base + "accounts:\n  groups:\n    - gid: 1000\n",
             kind: .invalidValue, line: 8, column: 7,
             message: "accounts.groups[0] has no groupname"),
        Case(name: "user name with a colon", yaml: base + "accounts:\n  users:\n    - username: \"a:b\"\n      uid: 7\n",
             kind: .invalidValue, line: 8, column: 17,
             message: "accounts.users[0].username \"a:b\" cannot contain ':' or a line break (it goes into /etc/passwd)"),
        Case(name: "unknown format", yaml: base + "format: squashfs\n",
             kind: .invalidValue, line: 6, column: 9,
             message: "format is \"squashfs\", which is not one of \"tar\", \"erofs\""),
        Case(name: "erofs with layering", yaml: base + "layering:\n  strategy: origin\n  budget: 4\nformat: erofs\n",
             kind: .invalidValue, line: 9, column: 1,
             message: "format: erofs cannot be combined with layering; remove one of them"),
        Case(name: "unknown layering strategy", yaml: base + "layering:\n  strategy: size\n",
             kind: .invalidValue, line: 7, column: 13,
             message: "layering.strategy is \"size\", which is not one of \"origin\""),
        Case(name: "layering without strategy", yaml: base + "layering:\n  budget: 3\n",
             kind: .invalidValue, line: 7, column: 3,
             message: "layering has no strategy; the only strategy is \"origin\" (write `layering: {}` or leave it out for one layer)"),
        Case(name: "negative budget", yaml: base + "layering: {strategy: origin, budget: -2}\n",
             kind: .invalidValue, line: 6, column: 38,
             message: "layering.budget is -2; it must be 0 or more"),
        Case(name: "entrypoint type typo", yaml: base + "entrypoint:\n  type: service_bundle\n",
             kind: .invalidValue, line: 7, column: 9,
             message: "entrypoint.type is \"service_bundle\", which is not one of \"service-bundle\" (did you mean \"service-bundle\"?)"),
        Case(name: "arch typo", yaml: base + "archs: [x86-64]\n",
             kind: .invalidValue, line: 6, column: 9,
             message: "archs[0] \"x86-64\" is not an architecture (did you mean \"x86_64\"?)"),
        Case(name: "unknown arch", yaml: base + "archs:\n  - aarch64\n  - mips\n",
             kind: .invalidValue, line: 8, column: 5,
             message: "archs[1] \"mips\" is not an architecture; use one of x86 (386), x86_64 (amd64), armhf (arm/v6), armv7 (arm/v7), aarch64 (arm64), loongarch64 (loong64), ppc64le (ppc64le), riscv64 (riscv64), s390x (s390x), all, host"),
        Case(name: "unknown path type", yaml: base + "paths:\n  - path: /data\n    type: dir\n",
             kind: .invalidValue, line: 8, column: 11,
             message: "paths[0].type is \"dir\", which is not one of \"directory\", \"empty-file\", \"hardlink\", \"symlink\", \"permissions\""),
        Case(name: "path without type", yaml: base + "paths:\n  - path: /data\n    permissions: 0o755\n",
             kind: .invalidValue, line: 7, column: 5,
             message: "paths[0] (/data) has no type; use one of directory, empty-file, hardlink, symlink, permissions"),
        Case(name: "symlink without source", yaml: base + "paths:\n  - path: /bin/sh\n    type: symlink\n",
             kind: .invalidValue, line: 7, column: 5,
             message: "paths[0] (/bin/sh) is a symlink without a source"),
        Case(name: "mode too large", yaml: base + "paths:\n  - path: /data\n    type: directory\n    permissions: 0o17777\n",
             kind: .invalidValue, line: 9, column: 18,
             message: "paths[0].permissions is 0o17777; a mode has at most four octal digits (0o7777)"),
        Case(name: "recursive is not a bool", yaml: base + "paths:\n  - path: /data\n    type: directory\n    recursive: maybe\n",
             kind: .wrongType, line: 9, column: 16,
             message: "paths[0].recursive must be true or false, not the scalar \"maybe\""),
        Case(name: "duplicate runtime key names",
             yaml: base + "  runtime_keyring:\n    - name: repo.rsa.pub\n      content: KEY1\n    - name: repo.rsa.pub\n      content: KEY2\n",
             kind: .invalidValue, line: 9, column: 7,
             message: "runtime_keyring has two keys named \"repo.rsa.pub\" (the first at apko.yaml:7:7); each becomes /etc/apk/keys/repo.rsa.pub"),
        Case(name: "runtime key name starts with a dot",
             yaml: "contents:\n  runtime_keyring:\n    - name: .hidden\n      content: KEY\n",
             kind: .invalidValue, line: 3, column: 13,
             message: "contents.runtime_keyring[0].name \".hidden\" must be a file name of letters, digits, '_', '-' and '.', not starting with '.'"),
        Case(name: "runtime key without content",
             yaml: "contents:\n  runtime_keyring:\n    - name: repo.rsa.pub\n",
             kind: .invalidValue, line: 3, column: 7,
             message: "contents.runtime_keyring[0] (repo.rsa.pub) has no content; give the PEM text of the key"),
        Case(name: "certificate without a PEM certificate",
             yaml: base + "certificates:\n  additional:\n    - name: corp\n      content: not a certificate\n",
             kind: .invalidValue, line: 8, column: 7,
             message: "certificates.additional[0] (corp) must contain exactly one PEM certificate, found 0"),
        Case(name: "operator without version", yaml: "contents:\n  packages:\n    - busybox>=\n",
             kind: .invalidValue, line: 3, column: 7,
             message: "contents.packages[0]: package \"busybox>=\": operator '>=' has no version after it"),
        Case(name: "invalid version", yaml: "contents:\n  packages:\n    - busybox=1.x.y\n",
             kind: .invalidValue, line: 3, column: 7,
             message: "contents.packages[0]: package \"busybox=1.x.y\": '1.x.y' is not a valid apk version"),
        Case(name: "tag without a tagged repository", yaml: base + "    - mytool@local\n",
             kind: .invalidValue, line: 6, column: 7,
             message: "package \"mytool@local\" pins the repository tag @local, but no repository is declared as \"@local URL\""),
        Case(name: "repository with a space", yaml: "contents:\n  repositories:\n    - https://example.com/my repo\n",
             kind: .invalidValue, line: 3, column: 7,
             message: "contents.repositories[0]: repository \"https://example.com/my repo\" contains a space; the only form with a space is \"@tag URL\""),
        Case(name: "repository scheme", yaml: "contents:\n  repositories:\n    - ftp://user:secret@example.com/os\n",
             kind: .invalidValue, line: 3, column: 7,
             message: "contents.repositories[0]: repository \"ftp://user:xxxxx@example.com/os\" uses the unsupported scheme \"ftp://\"; use https://, http://, file:// or a local directory"),
        Case(name: "duplicate key", yaml: base + "cmd: /bin/sh\ncontents:\n  packages: [busybox]\n",
             kind: .duplicateKey, line: 7, column: 1,
             message: "key \"contents\" is already defined at line 1, column 1 of this mapping"),
        Case(name: "tab indentation", yaml: "contents:\n  packages:\n\t- busybox\n",
             kind: .syntax, line: 3, column: 1,
             message: "a tab character indents this line; YAML indents with spaces only"),
        Case(name: "unclosed quote in cmd", yaml: base + "cmd: /bin/sh -c 'echo hi\n",
             kind: .invalidValue, line: 6, column: 6,
             message: "cmd: \"/bin/sh -c 'echo hi\" has a quote that is never closed"),
        Case(name: "environment value is a list", yaml: base + "environment:\n  PATH:\n    - /bin\n",
             kind: .wrongType, line: 8, column: 5,
             message: "environment.PATH must be a string, not a list"),
        Case(name: "annotation value is a mapping", yaml: base + "annotations:\n  org.opencontainers.image.url: {a: b}\n",
             kind: .wrongType, line: 7, column: 33,
             message: "annotations.org.opencontainers.image.url must be a string, not a mapping"),
        Case(name: "empty annotation key", yaml: base + "annotations:\n  \"\": value\n",
             kind: .invalidValue, line: 7, column: 3,
             message: "an annotation has an empty key"),
        Case(name: "environment name with '='", yaml: base + "environment:\n  A=B: c\n",
             kind: .invalidValue, line: 7, column: 3,
             message: "environment variable name \"A=B\" is empty or contains '='"),
        Case(name: "base image with cmd",
             yaml: "contents:\n  baseimage:\n    image: ./base\n    apkindex: ./index\n  packages: [curl]\ncmd: /bin/sh\n",
             kind: .invalidValue, line: 6, column: 1,
             message: "cmd cannot be used with contents.baseimage; a config on a base image may only set contents, archs and include"),
        Case(name: "two documents", yaml: base + "---\ncmd: /bin/sh\n",
             kind: .syntax, line: 6, column: 1,
             message: "a second YAML document starts here; an apko config is a single document"),
        Case(name: "undefined alias", yaml: base + "cmd: *command\n",
             kind: .syntax, line: 6, column: 6,
             message: "alias *command refers to no anchor &command defined before it"),
        Case(name: "custom tag", yaml: base + "cmd: !shell /bin/sh\n",
             kind: .syntax, line: 6, column: 6,
             message: "the YAML tag !shell is not supported here; use !!str, !!int, !!bool or no tag"),
        Case(name: "a list as a key", yaml: base + "environment: {[A, B]: x}\n",
             kind: .syntax, line: 6, column: 15,
             message: "a list or a mapping cannot be a key; apko config keys are plain names"),
        Case(name: "service name escapes /sv", yaml: base + "entrypoint:\n  type: service-bundle\n  services:\n    ../etc: /bin/true\n",
             kind: .invalidValue, line: 9, column: 5,
             message: "service name \"../etc\" must be a plain directory name under /sv"),
        Case(name: "users is a mapping", yaml: base + "accounts:\n  users:\n    username: app\n    uid: 1000\n",
             kind: .wrongType, line: 8, column: 5,
             message: "accounts.users must be a list, not a mapping"),
        Case(name: "value after a plain scalar", yaml: base + "cmd: echo a: b\n",
             kind: .syntax, line: 6, column: 12,
             message: "mapping values are not allowed in this context; quote a value that contains \": \""),
        Case(name: "empty file", yaml: "# nothing here\n",
             kind: .syntax, line: 0, column: 0,
             message: "the file is empty; an apko config needs at least `contents:`"),
    ]

    @Test(arguments: cases)
    func reportsTheMistake(_ broken: Case) {
        do {
            let loaded = try ConfigLoader.parse(Array(broken.yaml.utf8), name: "apko.yaml")
            Issue.record("loaded without error: \(loaded.configuration)")
        } catch let error as ConfigError {
            #expect(error.kind == broken.kind)
            #expect(error.message == broken.message)
            #expect(error.file == "apko.yaml")
            if broken.line > 0 {
                #expect(error.line == broken.line)
                #expect(error.column == broken.column)
                #expect(error.description == "apko.yaml:\(broken.line):\(broken.column): \(broken.message)")
            } else {
                #expect(error.line == nil)
                #expect(error.description == "apko.yaml: \(broken.message)")
            }
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test func theBaseConfigItselfLoads() throws {
        _ = try ConfigLoader.parse(Array(Self.base.utf8), name: "apko.yaml")
    }
}
