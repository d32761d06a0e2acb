/// Change-set generation (apk's `generate_changeset`): walks the world in name order,
/// depth-first, so that dependencies (in `D:` order) come before the package that needs them,
/// install_if packages right after their last condition, and removals of packages no longer
/// wanted where they stop being needed.
extension ResolverSession {
    func generateChangeset(world: [Dep]) {
        changes.removeAll(keepingCapacity: true)
        totalChanges = 0
        for pkg in index.installedOrder {
            let name = packageName(pkg)
            nameState(name).pointee.changesetRequirers = 0
            nameState(name).pointee.installedPackage = pkg
            nameState(name).pointee.installedName = name
            for provide in provides(pkg) where provide.version >= 0 {
                nameState(provide.name).pointee.installedName = name
            }
        }
        for pkg in index.installedOrder { trackDependenciesAdded(pkg) }
        for pkg in index.installedOrder { checkRemovalByDependencies(pkg) }
        for dep in world { generate(dependency: dep, of: -1) }
        for pkg in index.installedOrder { generateChange(for: packageName(pkg)) }
    }

    func record(old: Int32, new: Int32) {
        let oldTag = old >= 0 ? package(old).installedTag : 0
        let newTag = new >= 0 ? index.tagFor(pinning: packageState(new).pointee.pinningAllowed, repos: index.effectiveRepos(new)) : 0
        let reinstall = new >= 0 && packageState(new).pointee.flags.contains(.reinstall)
        changes.append(ChangeRecord(old: old, new: new, oldTag: oldTag, newTag: newTag, reinstall: reinstall))
        if new < 0 || old < 0 || new != old || reinstall || newTag != oldTag { totalChanges += 1 }
    }

    func trackDependenciesAdded(_ pkg: Int32) {
        for dep in depends(pkg) where !dep.isConflict {
            let owner = nameState(dep.name).pointee.installedName
            if owner >= 0 { nameState(owner).pointee.changesetRequirers += 1 }
        }
    }

    func trackDependenciesRemoved(_ pkg: Int32) {
        for dep in depends(pkg) where !dep.isConflict {
            let owner = nameState(dep.name).pointee.installedName
            if owner < 0 { continue }
            nameState(owner).pointee.changesetRequirers -= 1
            if nameState(owner).pointee.changesetRequirers > 0 { continue }
            let installed = nameState(dep.name).pointee.installedPackage
            if installed >= 0 { generateRemoval(of: installed) }
        }
    }

    /// An installed package nothing needs any more and that no other provider replaces goes.
    func checkRemovalByDependencies(_ pkg: Int32) {
        let name = packageName(pkg)
        if nameState(name).pointee.changesetRequirers == 0 && nameState(name).pointee.chosenPackage < 0 {
            generateRemoval(of: pkg)
        }
    }

    func checkInstallByInstallIf(_ name: Int32) {
        let state = nameState(name).pointee
        let pkg = state.chosenPackage
        if pkg < 0 || !isSeen(name) || state.changesetProcessed { return }
        for condition in installIf(pkg) {
            let conditionState = nameState(condition.name).pointee
            if !condition.isConflict && !conditionState.changesetProcessed { return }
            if !isProvided(condition, by: conditionState.chosen) { return }
        }
        generateChange(for: name)
    }

    func checkRemovalByInstallIf(_ name: Int32) {
        let state = nameState(name).pointee
        let pkg = state.installedPackage
        if pkg < 0 || state.chosenPackage >= 0 { return }
        if state.changesetProcessed || state.changesetRemoved { return }
        for condition in installIf(pkg) {
            let conditionState = nameState(condition.name).pointee
            if conditionState.changesetRemoved && conditionState.chosenPackage < 0 {
                checkRemovalByDependencies(pkg)
                return
            }
        }
    }

    enum ReverseInstallIfCheck { case install, removal }

    func checkReverseInstallIf(of pkg: Int32, _ check: ReverseInstallIfCheck) {
        guard pkg >= 0 else { return }
        let candidates = rinstallIf(packageName(pkg)) + provides(pkg).flatMap { rinstallIf($0.name) }
        for name in candidates {
            switch check {
            case .install: checkInstallByInstallIf(name)
            case .removal: checkRemovalByInstallIf(name)
            }
        }
    }

    func preprocess(_ name: Int32) {
        if nameState(name).pointee.changesetProcessed { return }
        nameState(name).pointee.changesetProcessed = true
        // The package that provided this name before goes if another package provides it now.
        let installed = nameState(name).pointee.installedPackage
        let chosen = nameState(name).pointee.chosenPackage
        if installed >= 0 && (chosen < 0 || packageName(chosen) != name) { generateRemoval(of: installed) }
        for provider in providers(name) {
            let other = packageName(provider.package)
            if nameState(other).pointee.installedPackage == provider.package && nameState(other).pointee.chosenPackage < 0 {
                generateRemoval(of: provider.package)
            }
        }
    }

    func generateChange(for wanted: Int32) {
        if nameState(wanted).pointee.changesetProcessed { return }
        preprocess(wanted)
        let pkg = nameState(wanted).pointee.chosenPackage
        if pkg < 0 || packageState(pkg).pointee.inChangeset { return }
        packageState(pkg).pointee.inChangeset = true
        let name = packageName(pkg)
        preprocess(name)
        for provide in provides(pkg) { preprocess(provide.name) }
        let old = nameState(name).pointee.installedPackage
        checkReverseInstallIf(of: old, .removal)
        for dep in depends(pkg) { generate(dependency: dep, of: pkg) }
        record(old: old, new: pkg)
        checkReverseInstallIf(of: pkg, .install)
        trackDependenciesAdded(pkg)
        if old >= 0 { trackDependenciesRemoved(old) }
    }

    func generateRemoval(of pkg: Int32) {
        let name = packageName(pkg)
        let chosen = nameState(name).pointee.chosenPackage
        if packageState(pkg).pointee.inChangeset || (chosen >= 0 && packageName(chosen) == name) { return }
        nameState(name).pointee.changesetRemoved = true
        packageState(pkg).pointee.inChangeset = true
        // Installed packages that need this one go first.
        for owner in [name] + provides(pkg).map(\.name) {
            for other in rdepends(owner) {
                for provider in providers(other) where package(provider.package).isInstalled {
                    for dep in depends(provider.package) where analyze(dep, pkg) == .satisfies {
                        generateRemoval(of: provider.package)
                    }
                }
            }
        }
        checkReverseInstallIf(of: pkg, .removal)
        record(old: pkg, new: -1)
        trackDependenciesRemoved(pkg)
    }

    func generate(dependency dep: Dep, of parent: Int32) {
        let chosen = nameState(dep.name).pointee.chosen
        if !isProvided(dep, by: chosen) { markError(parent) }
        generateChange(for: dep.name)
        if chosen.package >= 0 && packageState(chosen.package).pointee.error { markError(parent) }
    }
}
