/// Lends the bytes of any byte sequence to OpenSSL as one raw buffer: in place when the sequence
/// is contiguous (arrays, slices, `Data`, native strings' `utf8`), otherwise through one copy.
///
/// The standard library's `with…` helpers are `rethrows`, which widens a typed error to
/// `any Error`; carrying the outcome in a `Result` keeps the module's `throws(CryptoError)`.
func withBytes<Output>(
    _ bytes: some Sequence<UInt8>,
    _ body: (UnsafeRawBufferPointer) throws(CryptoError) -> Output
) throws(CryptoError) -> Output {
    let inPlace = bytes.withContiguousStorageIfAvailable { buffer in
        Result { () throws(CryptoError) -> Output in try body(UnsafeRawBufferPointer(buffer)) }
    }
    if let inPlace { return try inPlace.get() }
    let copy = Array(bytes)
    let copied = copy.withUnsafeBytes { buffer in
        Result { () throws(CryptoError) -> Output in try body(buffer) }
    }
    return try copied.get()
}
