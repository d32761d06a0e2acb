/// A list of lists in one contiguous buffer: list `i` is `items[starts[i] ..< starts[i + 1]]`.
///
/// The solver walks these lists millions of times per second; reading them through raw pointers
/// keeps each step a load, where nested Swift arrays would retain, release and (in unoptimised
/// builds) dispatch generically on every access.
///
/// `@unchecked Sendable`: the buffers are written once in `init` and only read afterwards, and
/// `Element` is plain data.
final class FlatLists<Element: Sendable>: @unchecked Sendable {
    let count: Int
    let starts: UnsafeMutablePointer<Int32>
    let items: UnsafeMutablePointer<Element>
    let itemCount: Int

    init(_ lists: [[Element]]) {
        count = lists.count
        starts = .allocate(capacity: lists.count + 1)
        var total = 0
        for (position, list) in lists.enumerated() {
            starts[position] = Int32(total)
            total += list.count
        }
        starts[lists.count] = Int32(total)
        itemCount = total
        items = .allocate(capacity: max(total, 1))
        var position = 0
        for list in lists {
            for element in list {
                (items + position).initialize(to: element)
                position += 1
            }
        }
    }

    deinit {
        items.deinitialize(count: itemCount)
        items.deallocate()
        starts.deallocate()
    }

    /// The entries of list `index` as a buffer (empty past the end).
    func list(_ index: Int) -> UnsafeBufferPointer<Element> {
        guard index < count else { return UnsafeBufferPointer(start: items, count: 0) }
        let start = Int(starts[index])
        return UnsafeBufferPointer(start: items + start, count: Int(starts[index + 1]) - start)
    }

    /// Copies list `index` into an array (for code off the hot path).
    func array(_ index: Int) -> [Element] { Array(list(index)) }
}

/// A fixed array of plain data in one buffer, read through a raw pointer (see ``FlatLists``).
final class FlatArray<Element: Sendable>: @unchecked Sendable {
    let count: Int
    let items: UnsafeMutablePointer<Element>

    init(_ elements: [Element]) {
        count = elements.count
        items = .allocate(capacity: max(elements.count, 1))
        for (position, element) in elements.enumerated() { (items + position).initialize(to: element) }
    }

    deinit {
        items.deinitialize(count: count)
        items.deallocate()
    }
}
