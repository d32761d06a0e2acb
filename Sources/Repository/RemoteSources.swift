import HTTPTransport

// http(s) repositories go through the HTTP transport, which is being moved out of the OCI module;
// until it is here, remote sources are refused with a clear message.
extension RepositoryClient {
    func remoteKey(url: String, name: String, credentials: BasicCredentials?) async throws(RepositoryError) -> [UInt8] {
        throw RepositoryError(.network, "http(s) keyring entries are not supported yet", source: url)
    }

    func remoteIndex(source: RepositorySource, url: String) async throws(RepositoryError) -> String {
        throw RepositoryError(.network, "http(s) repositories are not supported yet", source: url)
    }

    func fetchRemote(_ request: PackageRequest, options fetchOptions: FetchOptions) async throws(RepositoryError) -> FetchedPackage {
        throw RepositoryError(.network, "http(s) repositories are not supported yet", source: request.url)
    }
}
