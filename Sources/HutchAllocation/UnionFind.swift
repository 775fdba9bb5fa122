/// Disjoint sets over 0..<count whose representative is always the smallest member, so that
/// groups come out ordered by their first layer.
struct UnionFind {
    private var parent: [Int]

    init(count: Int) { parent = Array(0 ..< count) }

    mutating func root(_ x: Int) -> Int {
        var x = x
        while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
        return x
    }

    mutating func union(_ a: Int, _ b: Int) {
        let (ra, rb) = (root(a), root(b))
        if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }

    /// The sets (members ascending) ordered by their smallest member, and each element's set index.
    mutating func groups() -> (groups: [[Int]], groupOf: [Int]) {
        var groupOf = [Int](repeating: -1, count: parent.count)
        var groups: [[Int]] = []
        var rootToGroup: [Int: Int] = [:]
        for x in parent.indices {
            let r = root(x)
            if let g = rootToGroup[r] { groups[g].append(x) } else {
                rootToGroup[r] = groups.count
                groups.append([x])
            }
            groupOf[x] = rootToGroup[r]!
        }
        return (groups, groupOf)
    }
}
