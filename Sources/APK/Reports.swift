import Archive

/// What the `distill apk …` and `distill index …` commands print, kept in the library so the
/// executable only parses flags.
public enum Report {
    /// Output format of `inspect` and `show`.
    public enum Format: String, Sendable, CaseIterable {
        /// Lines for people.
        case text
        /// One JSON document (keys sorted).
        case json
    }

    // MARK: apk verify

    /// `PATH: OK`, `PATH: UNTRUSTED`, `PATH: BAD signature`, … like `apk verify`, with the other
    /// failed checks in parentheses (a tampered package fails on signature and datahash).
    public static func verifyLine(path: String, file: APKFile) -> String {
        var line = "\(path): \(file.verdict)"
        var more: [String] = []
        if file.verdict != .badDataHash, case .mismatch = file.dataHash { more.append("BAD datahash too") }
        if case .untrusted(let keyNames) = file.signature, file.verdict == .untrusted {
            more.append("signed by \(keyNames.joined(separator: ", ")), not in the keyring")
        }
        if case .bad(let signer, let reason) = file.signature, file.verdict == .badSignature {
            more.insert("\(signer): \(reason)", at: 0)
        }
        if !more.isEmpty { line += " (" + more.joined(separator: "; ") + ")" }
        return line
    }

    /// `PATH: ERROR: what is wrong` for a file that could not be read to a verdict.
    public static func errorLine(path: String, error: any Error) -> String {
        if let error = error as? APKError { return "\(path): ERROR: \(error.message)" }
        return "\(path): ERROR: \(error)"
    }

    // MARK: apk inspect

    /// `.PKGINFO` fields, identity, sections, signer and checks, scripts and the file list.
    public static func inspection(path: String, file: APKFile, keyringGiven: Bool, format: Format) -> String {
        switch format {
        case .text: inspectionText(path: path, file: file, keyringGiven: keyringGiven)
        case .json: JSONText.render(inspectionJSON(path: path, file: file, keyringGiven: keyringGiven))
        }
    }

    private static func signatureSummary(_ file: APKFile, keyringGiven: Bool) -> String {
        switch file.signature {
        case .verified(let signer): return "OK, signed by \(signer)"
        case .bad(let signer, let reason): return "BAD, signed by \(signer): \(reason)"
        case .unsigned: return "unsigned"
        case .untrusted:
            let signers = file.signatures.map { "\($0.keyName) (\($0.algorithm?.rawValue ?? "unknown type"))" }.joined(separator: ", ")
            return keyringGiven ? "UNTRUSTED, signed by \(signers)" : "signed by \(signers) (not checked: no keyring given)"
        }
    }

    private static func dataHashSummary(_ status: APKFile.DataHashStatus) -> String {
        switch status {
        case .matches: "OK"
        case .mismatch(let expected, let actual): "BAD: .PKGINFO says \(expected), the data hashes to \(actual)"
        case .absent: "none (legacy package)"
        }
    }

    private static func inspectionText(path: String, file: APKFile, keyringGiven: Bool) -> String {
        var lines: [String] = ["file: \(path)"]
        var fields = PKGINFO.write(file.info).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        fields.removeAll { $0.hasPrefix("#") }
        lines += fields
        lines.append("checksum: \(file.identity)")
        lines.append("file size: \(file.info.fileSize ?? 0)")
        lines.append("signature: \(signatureSummary(file, keyringGiven: keyringGiven))")
        lines.append("datahash: \(dataHashSummary(file.dataHash))")
        if let section = file.signatureSection { lines.append("signature section: \(section.httpRange) \(section.checksum)") }
        lines.append("control section: \(file.controlSection.httpRange) \(file.controlSection.checksum)")
        lines.append("data section: \(file.dataSection.httpRange) \(file.dataSection.checksum)")
        lines.append("scripts: " + (file.scripts.isEmpty ? "none" : file.scripts.map(\.kind.rawValue).joined(separator: " ")))
        for warning in file.warnings { lines.append("warning: \(warning)") }
        lines.append("files: \(file.dataEntries.count)")
        for entry in file.dataEntries { lines.append(listingLine(entry)) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One `tar tv`-style line: mode string, owner/group, size, date-free path (and link target).
    static func listingLine(_ entry: APKFile.DataEntry) -> String {
        let owner = "\(entry.userName.isEmpty ? String(entry.uid) : entry.userName)/\(entry.groupName.isEmpty ? String(entry.gid) : entry.groupName)"
        var size = String(entry.size)
        if entry.kind == .characterDevice || entry.kind == .blockDevice { size = "\(entry.deviceMajor),\(entry.deviceMinor)" }
        let padded = String(repeating: " ", count: max(0, 10 - size.count)) + size
        var line = "\(modeString(entry.kind, entry.mode)) \(owner) \(padded) \(entry.path)"
        switch entry.kind {
        case .symbolicLink: line += " -> \(entry.linkTarget)"
        case .hardLink: line += " link to \(entry.linkTarget)"
        default: break
        }
        return line
    }

    /// `drwxr-xr-x`, `-rwsr-xr-x`, `lrwxrwxrwx`, … as `ls -l` shows them.
    static func modeString(_ kind: TarEntry.Kind, _ mode: UInt32) -> String {
        let type: Character
        switch kind {
        case .directory: type = "d"
        case .symbolicLink: type = "l"
        case .characterDevice: type = "c"
        case .blockDevice: type = "b"
        case .fifo: type = "p"
        case .hardLink: type = "h"
        default: type = "-"
        }
        var text = String(type)
        let special: [(UInt32, Character, Character)] = [(0o4000, "s", "S"), (0o2000, "s", "S"), (0o1000, "t", "T")]
        for (index, shift) in [6, 3, 0].enumerated() {
            let bits = (mode >> UInt32(shift)) & 0o7
            text.append(bits & 0o4 != 0 ? "r" : "-")
            text.append(bits & 0o2 != 0 ? "w" : "-")
            let (flag, withExecute, withoutExecute) = special[index]
            if mode & flag != 0 {
                text.append(bits & 0o1 != 0 ? withExecute : withoutExecute)
            } else {
                text.append(bits & 0o1 != 0 ? "x" : "-")
            }
        }
        return text
    }

    private static func inspectionJSON(path: String, file: APKFile, keyringGiven: Bool) -> JSONText.Value {
        func section(_ section: APKFile.Section?) -> JSONText.Value {
            guard let section else { return .null }
            return .object(["range": .string(section.httpRange), "checksum": .string(section.checksum)])
        }
        let entries: [JSONText.Value] = file.dataEntries.map { entry in
            var object: [String: JSONText.Value] = [
                "path": .string(entry.path), "type": .string(typeName(entry.kind)), "mode": .string(String(entry.mode, radix: 8)),
                "uid": .integer(Int64(entry.uid)), "gid": .integer(Int64(entry.gid)), "size": .integer(entry.size),
                "mtime": .integer(entry.modificationTime), "offset": .integer(entry.contentOffset),
            ]
            if !entry.userName.isEmpty { object["uname"] = .string(entry.userName) }
            if !entry.groupName.isEmpty { object["gname"] = .string(entry.groupName) }
            if !entry.linkTarget.isEmpty { object["link"] = .string(entry.linkTarget) }
            if let checksum = entry.checksum { object["checksum"] = .string(checksum.installedDatabaseForm) }
            if !entry.extendedAttributes.isEmpty {
                object["xattrs"] = .array(entry.extendedAttributes.keys.sorted().map(JSONText.Value.string))
            }
            return .object(object)
        }
        return .object([
            "file": .string(path),
            "package": packageJSON(file.info),
            "checksum": .string(file.identity),
            "verdict": .string(file.verdict.rawValue),
            "signature": .string(signatureSummary(file, keyringGiven: keyringGiven)),
            "signatures": .array(file.signatures.map {
                .object(["key": .string($0.keyName), "algorithm": .optional($0.algorithm?.rawValue)])
            }),
            "datahash": .string(dataHashSummary(file.dataHash)),
            "sections": .object(["signature": section(file.signatureSection), "control": section(file.controlSection),
                                 "data": section(file.dataSection)]),
            "scripts": .array(file.scripts.map { .string($0.kind.rawValue) }),
            "warnings": .array(file.warnings.map(JSONText.Value.string)),
            "files": .array(entries),
        ])
    }

    private static func typeName(_ kind: TarEntry.Kind) -> String {
        switch kind {
        case .regular: "file"
        case .hardLink: "hardlink"
        case .symbolicLink: "symlink"
        case .characterDevice: "char"
        case .blockDevice: "block"
        case .directory: "dir"
        case .fifo: "fifo"
        case .other(let flag): "type-\(Character(Unicode.Scalar(flag)))"
        }
    }

    private static func packageJSON(_ info: PackageInfo) -> JSONText.Value {
        var object: [String: JSONText.Value] = [
            "name": .string(info.name), "version": .string(info.version), "arch": .optional(info.arch),
            "checksum": .optional(info.checksum), "size": .optional(info.fileSize), "installed_size": .optional(info.installedSize),
            "description": .optional(info.description), "url": .optional(info.url), "license": .optional(info.license),
            "origin": .optional(info.origin), "maintainer": .optional(info.maintainer), "build_time": .optional(info.buildTime),
            "commit": .optional(info.commit), "provider_priority": .optional(info.providerPriority),
            "depends": .array(info.depends.map { .string($0.description) }),
            "provides": .array(info.provides.map { .string($0.description) }),
            "install_if": .array(info.installIf.map { .string($0.description) }),
            "replaces": .array(info.replaces.map { .string($0.description) }),
            "triggers": .array(info.triggers.map(JSONText.Value.string)),
        ]
        if let dataHash = info.dataHash { object["datahash"] = .string(dataHash) }
        if info.hasUnknownRequiredField { object["unusable"] = .bool(true) }
        return .object(object)
    }

    // MARK: index show / verify

    /// `PATH: OK` (with the signers), `PATH: UNTRUSTED (signed by …)`, `PATH: BAD signature (…)`
    /// or `PATH: unsigned`.
    public static func indexVerifyLine(path: String, index: APKIndexFile) -> String {
        "\(path): \(indexSignatureSummary(index))"
    }

    private static func indexSignatureSummary(_ index: APKIndexFile) -> String {
        switch index.signature {
        case .verified(let signers): "OK (signed by \(signers.map(\.description).joined(separator: ", ")))"
        case .untrusted(let keyNames): "UNTRUSTED (signed by \(keyNames.joined(separator: ", ")), not in the keyring)"
        case .unsigned: "unsigned"
        case .bad(let signers, let reasons):
            "BAD signature (" + zip(signers, reasons).map { "\($0): \($1)" }.joined(separator: "; ") + ")"
        }
    }

    /// The signature status, then one line per package: name, version, arch, `C:`.
    public static func indexListing(path: String, index: APKIndexFile, format: Format) -> String {
        switch format {
        case .text:
            var lines = ["index: \(path)", "signature: \(indexSignatureSummary(index))"]
            if let description = index.description, !description.isEmpty { lines.append("description: \(description)") }
            lines.append("packages: \(index.packages.count)")
            for package in index.packages {
                var line = "\(package.name) \(package.version) \(package.arch ?? "-") \(package.checksum ?? "-")"
                if package.hasUnknownRequiredField { line += " (unusable: unknown required field)" }
                lines.append(line)
            }
            return lines.joined(separator: "\n") + "\n"
        case .json:
            return JSONText.render(.object([
                "index": .string(path),
                "signature": .string(indexSignatureSummary(index)),
                "trusted": .bool(index.signature.isTrusted),
                "description": .optional(index.description),
                "packages": .array(index.packages.map(packageJSON)),
            ]))
        }
    }
}
