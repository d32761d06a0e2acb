public import DistillCrypto
import Foundation

/// Recipe records: which diff_id a layer recipe (a digest of the layer's tar with every file's
/// bytes replaced by the verified identity of the package data they come from) turned out to
/// have, so a rebuild from the same inputs finds its compressed layer without hashing the tar.
///
/// ```
/// <root>/layers/recipes/<recipe hex>.json   {"diffID", "recipe", "uncompressedSize"}
/// ```
///
/// Trust: the record is believed the way an expansion record is — it was written by a build
/// that hashed that very tar — and is checked for what can be checked without the tar: it must
/// name its own recipe, the tar size the recipe predicts, and a diff_id whose cached blob is
/// intact (the blob's digest is still verified on every hit). What it cannot catch is a record
/// deliberately rewritten to name another cached layer: like the expansions it sits beside, the
/// cache directory must not be writable by anyone the builds do not trust. A damaged record is
/// a miss and the next build writes it again.
extension LayerCache {
    /// Where the record of `recipe` is kept.
    public func recipeRecordPath(_ recipe: Digest) -> String {
        "\(root)/layers/recipes/\(recipe.hex).json"
    }

    /// The diff_id recorded for `recipe`, when a record exists, names this recipe and the tar
    /// size `uncompressedSize` the recipe predicts; nil otherwise.
    public func diffID(forRecipe recipe: Digest, uncompressedSize: Int64) -> Digest? {
        guard recipe.algorithm == .sha256 else { return nil }
        let path = recipeRecordPath(recipe)
        guard FileSystem.kind(of: path) == .file, let bytes = try? FileSystem.read(path, limit: Self.maximumRecordSize),
              let record = try? JSONDecoder().decode(RecipeRecord.self, from: Data(bytes)),
              record.recipe == recipe.description, record.uncompressedSize == uncompressedSize,
              let diffID = try? OCIDigest.parse(record.diffID), diffID.algorithm == .sha256 else { return nil }
        return diffID
    }

    /// Records that the tar described by `recipe` has `diffID` and `uncompressedSize` bytes,
    /// written atomically (a concurrent build writes the same bytes).
    public func storeRecipe(_ recipe: Digest, diffID: Digest, uncompressedSize: Int64) throws(OCIError) {
        guard recipe.algorithm == .sha256, diffID.algorithm == .sha256 else {
            throw OCIError(.invalidArgument, "only sha256 recipes and diff_ids are recorded", source: recipeRecordPath(recipe))
        }
        let path = recipeRecordPath(recipe)
        try Self.makeDirectories((path as NSString).deletingLastPathComponent)
        let record = RecipeRecord(recipe: recipe.description, diffID: diffID.description, uncompressedSize: uncompressedSize)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = try mapErrors(.invalidJSON, "cannot encode the layer recipe record") { Array(try encoder.encode(record)) }
        try FileSystem.writeAtomically(bytes, to: path)
    }

    /// A recipe record's JSON.
    struct RecipeRecord: Codable {
        var recipe: String
        var diffID: String
        var uncompressedSize: Int64
    }
}
