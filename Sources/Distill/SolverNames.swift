import Resolver

/// The solver's repository type. Its name is also the name of the Repository module, so files
/// that import both reach it through this alias.
typealias SolverRepository = Repository
