/// Change-set generation (apk's `generate_changeset`): walks the world in name order,
/// depth-first, so that dependencies (in `D:` order) come before the package that needs them,
/// install_if packages right after their last condition, and removals of packages no longer
/// wanted where they stop being needed.
extension ResolverSession {
    func generateChangeset(world: [Dep]) {
        changes.removeAll(keepingCapacity: true)
        totalChanges = 0
        // apk reuses the requirers counter to track which installed names are still needed.
        for name in touchedNames {
            names[Int(name)].requirers = 0
            names[Int(name)].installedPackage = -1
            names[Int(name)].installedName = -1
        }
        for pkg in index.installedOrder {
            let item = package(pkg)
            touchName(item.name)
            names[Int(item.name)].requirers = 0
            names[Int(item.name)].installedPackage = pkg
            names[Int(item.name)].installedName = item.name
            for provide in item.provides where provide.version >= 0 {
                touchName(provide.name)
                names[Int(provide.name)].installedName = item.name
            }
            for dep in item.depends { touchName(dep.name) }
        }
        for pkg in index.installedOrder { trackDependenciesAdded(pkg) }
        for pkg in index.installedOrder { checkRemovalByDependencies(pkg) }
        for dep in world { generate(dependency: dep, of: -1) }
        for pkg in index.installedOrder { generateChange(for: package(pkg).name) }
    }

    func record(old: Int32, new: Int32) {
        let oldTag = old >= 0 ? package(old).installedTag : 0
        let newTag = new >= 0 ? index.tagFor(pinning: pkgs[Int(new)].pinningAllowed, repos: index.effectiveRepos(new)) : 0
        let reinstall = new >= 0 && pkgs[Int(new)].flags.contains(.reinstall)
        changes.append(ChangeRecord(old: old, new: new, oldTag: oldTag, newTag: newTag, reinstall: reinstall))
        if new < 0 || old < 0 || new != old || reinstall || newTag != oldTag { totalChanges += 1 }
    }

    func trackDependenciesAdded(_ pkg: Int32) {
        for dep in package(pkg).depends where !dep.isConflict {
            let owner = names[Int(dep.name)].installedName
            if owner >= 0 { names[Int(owner)].requirers += 1 }
        }
    }

    func trackDependenciesRemoved(_ pkg: Int32) {
        for dep in package(pkg).depends where !dep.isConflict {
            let owner = names[Int(dep.name)].installedName
            if owner < 0 { continue }
            names[Int(owner)].requirers -= 1
            if names[Int(owner)].requirers > 0 { continue }
            let installed = names[Int(dep.name)].installedPackage
            if installed >= 0 { generateRemoval(of: installed) }
        }
    }

    /// An installed package nothing needs any more and that no other provider replaces goes.
    func checkRemovalByDependencies(_ pkg: Int32) {
        let name = package(pkg).name
        if names[Int(name)].requirers == 0 && names[Int(name)].chosenPackage < 0 { generateRemoval(of: pkg) }
    }

    func checkInstallByInstallIf(_ name: Int32) {
        let state = names[Int(name)]
        let pkg = state.chosenPackage
        if pkg < 0 || !state.seen || state.changesetProcessed { return }
        for condition in package(pkg).installIf {
            let conditionState = names[Int(condition.name)]
            if !condition.isConflict && !conditionState.changesetProcessed { return }
            if !isProvided(condition, by: conditionState.chosen) { return }
        }
        generateChange(for: name)
    }

    func checkRemovalByInstallIf(_ name: Int32) {
        let state = names[Int(name)]
        let pkg = state.installedPackage
        if pkg < 0 || state.chosenPackage >= 0 { return }
        if state.changesetProcessed || state.changesetRemoved { return }
        for condition in package(pkg).installIf {
            let conditionState = names[Int(condition.name)]
            if conditionState.changesetRemoved && conditionState.chosenPackage < 0 {
                checkRemovalByDependencies(pkg)
                return
            }
        }
    }

    enum ReverseInstallIfCheck { case install, removal }

    func checkReverseInstallIf(of pkg: Int32, _ check: ReverseInstallIfCheck) {
        guard pkg >= 0 else { return }
        let item = package(pkg)
        let candidates = rinstallIf(item.name) + item.provides.flatMap { rinstallIf($0.name) }
        for name in candidates {
            switch check {
            case .install: checkInstallByInstallIf(name)
            case .removal: checkRemovalByInstallIf(name)
            }
        }
    }

    func preprocess(_ name: Int32) {
        if names[Int(name)].changesetProcessed { return }
        touchName(name)
        names[Int(name)].changesetProcessed = true
        // The package that provided this name before goes if another package provides it now.
        let installed = names[Int(name)].installedPackage
        let chosen = names[Int(name)].chosenPackage
        if installed >= 0 && (chosen < 0 || package(chosen).name != name) { generateRemoval(of: installed) }
        for provider in providers(name) {
            let other = package(provider.package).name
            if names[Int(other)].installedPackage == provider.package && names[Int(other)].chosenPackage < 0 {
                generateRemoval(of: provider.package)
            }
        }
    }

    func generateChange(for name: Int32) {
        if names[Int(name)].changesetProcessed { return }
        preprocess(name)
        let pkg = names[Int(name)].chosenPackage
        if pkg < 0 || pkgs[Int(pkg)].inChangeset { return }
        touchPackage(pkg)
        pkgs[Int(pkg)].inChangeset = true
        let item = package(pkg)
        preprocess(item.name)
        for provide in item.provides { preprocess(provide.name) }
        let old = names[Int(item.name)].installedPackage
        checkReverseInstallIf(of: old, .removal)
        for dep in item.depends { generate(dependency: dep, of: pkg) }
        record(old: old, new: pkg)
        checkReverseInstallIf(of: pkg, .install)
        trackDependenciesAdded(pkg)
        if old >= 0 { trackDependenciesRemoved(old) }
    }

    func generateRemoval(of pkg: Int32) {
        let item = package(pkg)
        let chosen = names[Int(item.name)].chosenPackage
        if pkgs[Int(pkg)].inChangeset || (chosen >= 0 && package(chosen).name == item.name) { return }
        touchName(item.name)
        touchPackage(pkg)
        names[Int(item.name)].changesetRemoved = true
        pkgs[Int(pkg)].inChangeset = true
        // Installed packages that need this one go first.
        for owner in [item.name] + item.provides.map(\.name) {
            for other in rdepends(owner) {
                for provider in providers(other) where package(provider.package).isInstalled {
                    for dep in package(provider.package).depends where analyze(dep, pkg) == .satisfies {
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
        let chosen = names[Int(dep.name)].chosen
        if !isProvided(dep, by: chosen) { markError(parent) }
        generateChange(for: dep.name)
        if chosen.package >= 0 && pkgs[Int(chosen.package)].error { markError(parent) }
    }
}
