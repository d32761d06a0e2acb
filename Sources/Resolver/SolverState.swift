import APK

/// Per-name solver state (apk's `name->ss`), reset after every solve.
struct NameState {
    /// The solve this state belongs to; any other value means "empty".
    var generation: UInt32 = 0
    var locked = false
    var chosenPackage: Int32 = -1
    var chosenVersion: Int32 = -1
    var requirers: Int32 = 0
    var reevaluateDeps = false
    var reevaluateIif = false
    var hasOptions = false
    var hasIif = false
    var hasAutoSelectable = false
    var reverseDepsDone = false
    var hasVirtualProvides = false
    var flagsSet = false
    var inDirty = false
    var inUnresolved = false
    var dirtySeq: UInt32 = 0
    var unresolvedSeq: UInt32 = 0
    var mergeDepends: Int32 = 0
    var mergeProvides: Int32 = 0
    // Change-set generation.
    var installedPackage: Int32 = -1
    var installedName: Int32 = -1
    /// How many installed packages still need this (installed) name.
    var changesetRequirers: Int32 = 0
    var changesetProcessed = false
    var changesetRemoved = false

    var chosen: Provider { Provider(package: chosenPackage, version: chosenVersion) }

    /// The state of a name no solve has touched.
    static let empty = NameState()
}

/// Per-package solver state (apk's `pkg->ss`), reset after every solve.
struct PackageState {
    /// The solve this state belongs to; any other value means "empty".
    var generation: UInt32 = 0
    var seen = false
    var selectable = false
    var available = false
    var iifTriggered = false
    var iifFailed = false
    var tagOK = false
    var tagPreferred = false
    var error = false
    var inChangeset = false
    var dependenciesMerged = false
    var dependenciesUsed = false
    var conflicts: Int32 = 0
    var pinningAllowed: UInt64 = 0
    var pinningPreferred: UInt64 = 0
    var flags = SolverFlags(rawValue: 0)
    var inheritableFlags = SolverFlags(rawValue: 0)

    /// The state of a package no solve has touched.
    static let empty = PackageState()
}

/// One recorded change, in internal ids.
struct ChangeRecord {
    var old: Int32
    var new: Int32
    var oldTag: Int32
    var newTag: Int32
    var reinstall: Bool
}

/// The raw result of one solve, before it is turned into public values.
struct SolveOutcome {
    var world: [Dep]
    /// The world entries as given, in the same (sorted) order as `world`.
    var worldSources: [Dependency]
    var changes: [ChangeRecord]
    var errors: Int
    var totalChanges: Int
}

/// Flags set on a name's providers before a solve (apk's `apk_solver_set_name_flags`).
struct NameFlagSetting {
    var name: Int32
    var flags: SolverFlags
    var inheritable: SolverFlags
}
