//! Header-space arithmetic for the access analysis: a [`HeaderSet`] is a finite union of
//! disjoint [`Cube`]s, each a product of inclusive intervals over protocol, source address,
//! destination address, source port and destination port (IPv4 addresses as `u32`).
//! Security groups become unions of cubes, NACLs ordered first-match differences, route
//! tables partitions of the destination axis; everything is exact interval arithmetic, no
//! sampling.

use crate::ip::Cidr;

/// Protocol dimension (IP protocol number, 0–255).
pub const PROTO: usize = 0;
/// Source address dimension (IPv4 as `u32`).
pub const SRC: usize = 1;
/// Destination address dimension.
pub const DST: usize = 2;
/// Source port dimension (0–65535).
pub const SPORT: usize = 3;
/// Destination port dimension.
pub const DPORT: usize = 4;
const DIMS: usize = 5;
const MAX: [u32; DIMS] = [255, u32::MAX, u32::MAX, 65535, 65535];

/// A product of inclusive intervals `lo[d]..=hi[d]`, one per dimension; never empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cube {
    pub lo: [u32; DIMS],
    pub hi: [u32; DIMS],
}

impl Cube {
    /// Every header.
    pub const FULL: Cube = Cube {
        lo: [0; DIMS],
        hi: MAX,
    };

    /// `self` with dimension `d` narrowed to `lo..=hi` (`None` if that is empty).
    pub fn with(mut self, d: usize, lo: u32, hi: u32) -> Option<Cube> {
        let (lo, hi) = (lo.max(self.lo[d]), hi.min(self.hi[d]));
        (lo <= hi).then(|| {
            self.lo[d] = lo;
            self.hi[d] = hi;
            self
        })
    }

    pub fn intersect(&self, o: &Cube) -> Option<Cube> {
        let mut c = *self;
        for d in 0..DIMS {
            c.lo[d] = self.lo[d].max(o.lo[d]);
            c.hi[d] = self.hi[d].min(o.hi[d]);
            if c.lo[d] > c.hi[d] {
                return None;
            }
        }
        Some(c)
    }

    pub fn intersects(&self, o: &Cube) -> bool {
        (0..DIMS).all(|d| self.lo[d].max(o.lo[d]) <= self.hi[d].min(o.hi[d]))
    }

    pub fn contains(&self, point: &[u32; DIMS]) -> bool {
        (0..DIMS).all(|d| self.lo[d] <= point[d] && point[d] <= self.hi[d])
    }

    /// Push the pieces of `self` outside `o` onto `out` (at most two per dimension).
    pub fn subtract_into(&self, o: &Cube, out: &mut Vec<Cube>) {
        if !self.intersects(o) {
            out.push(*self);
            return;
        }
        let mut rest = *self;
        for d in 0..DIMS {
            if rest.lo[d] < o.lo[d] {
                let mut piece = rest;
                piece.hi[d] = o.lo[d] - 1;
                out.push(piece);
                rest.lo[d] = o.lo[d];
            }
            if rest.hi[d] > o.hi[d] {
                let mut piece = rest;
                piece.lo[d] = o.hi[d] + 1;
                out.push(piece);
                rest.hi[d] = o.hi[d];
            }
        }
    }
}

/// A set of headers: a union of pairwise disjoint cubes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct HeaderSet {
    cubes: Vec<Cube>,
}

impl HeaderSet {
    pub fn empty() -> Self {
        HeaderSet::default()
    }

    pub fn full() -> Self {
        HeaderSet::from_cube(Cube::FULL)
    }

    pub fn from_cube(c: Cube) -> Self {
        HeaderSet { cubes: vec![c] }
    }

    /// A union of possibly overlapping cubes, made disjoint.
    pub fn from_cubes(cubes: impl IntoIterator<Item = Cube>) -> Self {
        let mut s = HeaderSet::empty();
        for c in cubes {
            s.insert(c);
        }
        s
    }

    pub fn cubes(&self) -> &[Cube] {
        &self.cubes
    }

    pub fn is_empty(&self) -> bool {
        self.cubes.is_empty()
    }

    /// Does the set hold this header (`[proto, src, dst, sport, dport]`)?
    pub fn contains(&self, point: [u32; DIMS]) -> bool {
        self.cubes.iter().any(|c| c.contains(&point))
    }

    /// Number of headers in the set (saturating); for tests and statistics.
    pub fn count(&self) -> u128 {
        self.cubes
            .iter()
            .map(|c| {
                (0..DIMS)
                    .map(|d| u128::from(c.hi[d] - c.lo[d]) + 1)
                    .fold(1u128, u128::saturating_mul)
            })
            .fold(0u128, u128::saturating_add)
    }

    /// Add `c` (only the part not already present, so the cubes stay disjoint).
    pub fn insert(&mut self, c: Cube) {
        let mut pieces = vec![c];
        let mut next = Vec::new();
        for e in &self.cubes {
            if pieces.is_empty() {
                return;
            }
            next.clear();
            for p in &pieces {
                p.subtract_into(e, &mut next);
            }
            std::mem::swap(&mut pieces, &mut next);
        }
        self.cubes.extend(pieces);
    }

    pub fn union(&self, o: &HeaderSet) -> HeaderSet {
        let mut s = self.clone();
        for c in &o.cubes {
            s.insert(*c);
        }
        s
    }

    pub fn intersect_cube(&self, c: &Cube) -> HeaderSet {
        HeaderSet {
            cubes: self.cubes.iter().filter_map(|x| x.intersect(c)).collect(),
        }
    }

    /// Intersection; disjoint inputs give disjoint pairwise intersections.
    pub fn intersect(&self, o: &HeaderSet) -> HeaderSet {
        let mut cubes = Vec::new();
        for a in &self.cubes {
            for b in &o.cubes {
                if let Some(c) = a.intersect(b) {
                    cubes.push(c);
                }
            }
        }
        HeaderSet { cubes }
    }

    pub fn intersects_cube(&self, c: &Cube) -> bool {
        self.cubes.iter().any(|x| x.intersects(c))
    }

    pub fn subtract_cube(&self, c: &Cube) -> HeaderSet {
        let mut cubes = Vec::with_capacity(self.cubes.len());
        for x in &self.cubes {
            x.subtract_into(c, &mut cubes);
        }
        HeaderSet { cubes }
    }

    pub fn subtract(&self, o: &HeaderSet) -> HeaderSet {
        let mut s = self.clone();
        for c in &o.cubes {
            if s.is_empty() {
                break;
            }
            s = s.subtract_cube(c);
        }
        s
    }

    /// Narrow dimension `d` to `lo..=hi`.
    pub fn restrict(&self, d: usize, lo: u32, hi: u32) -> HeaderSet {
        HeaderSet {
            cubes: self
                .cubes
                .iter()
                .filter_map(|c| c.with(d, lo, hi))
                .collect(),
        }
    }

    /// Narrow dimension `d` to a union of intervals.
    pub fn restrict_ranges(&self, d: usize, ranges: &[(u32, u32)]) -> HeaderSet {
        let mut cubes = Vec::new();
        for c in &self.cubes {
            for &(lo, hi) in ranges {
                if let Some(x) = c.with(d, lo, hi) {
                    cubes.push(x);
                }
            }
        }
        HeaderSet { cubes }
    }

    /// Replace dimension `d` by the single value `v` (address translation): the headers
    /// that differed only in `d` collapse, so the result is re-made disjoint.
    pub fn rewrite(&self, d: usize, v: u32) -> HeaderSet {
        HeaderSet::from_cubes(self.cubes.iter().map(|c| {
            let mut c = *c;
            c.lo[d] = v;
            c.hi[d] = v;
            c
        }))
    }

    /// The values dimension `d` takes, as merged intervals.
    pub fn project(&self, d: usize) -> Vec<(u32, u32)> {
        merge(self.cubes.iter().map(|c| (c.lo[d], c.hi[d])).collect())
    }
}

/// Sort and merge overlapping or adjacent intervals.
pub fn merge(mut v: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    v.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(v.len());
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// `a` minus `b`, both merged interval lists.
pub fn subtract_ranges(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for &(mut lo, hi) in a {
        let mut alive = true;
        for &(blo, bhi) in b {
            if bhi < lo || blo > hi {
                continue;
            }
            if blo > lo {
                out.push((lo, blo - 1));
            }
            if bhi >= hi {
                alive = false;
                break;
            }
            lo = bhi + 1;
        }
        if alive {
            out.push((lo, hi));
        }
    }
    out
}

/// The address interval of an IPv4 CIDR (`None` for IPv6: the analysis is IPv4, as NAA's).
pub fn cidr_range(c: &Cidr) -> Option<(u32, u32)> {
    if c.addr.v6 {
        return None;
    }
    let bits = u32::try_from(c.addr.bits).ok()?;
    let len = u32::from(c.len.min(32));
    let host = u32::MAX.checked_shr(len).unwrap_or(0);
    let lo = bits & !host;
    Some((lo, lo | host))
}

/// The fewest CIDRs covering exactly `lo..=hi`.
pub fn range_to_cidrs(lo: u32, hi: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = u64::from(lo);
    let end = u64::from(hi);
    while cur <= end {
        let mut size = if cur == 0 {
            1u64 << 32
        } else {
            cur & cur.wrapping_neg()
        };
        while cur + size - 1 > end {
            size >>= 1;
        }
        let len = 32 - size.trailing_zeros();
        let a = u32::try_from(cur).unwrap_or(u32::MAX);
        out.push(format!("{}/{len}", std::net::Ipv4Addr::from(a)));
        cur += size;
    }
    out
}

/// The IPv4 addresses the internet routes: everything but RFC 1918, RFC 6598, this network,
/// loopback, link-local, multicast and reserved (the same list as [`crate::ip::is_non_internet`]).
pub fn internet_v4() -> Vec<(u32, u32)> {
    let non: Vec<(u32, u32)> = [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
    ]
    .iter()
    .filter_map(|s| Cidr::parse(s).as_ref().and_then(cidr_range))
    .collect();
    subtract_ranges(&[(0, u32::MAX)], &merge(non))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cube(d: usize, lo: u32, hi: u32) -> Cube {
        Cube::FULL.with(d, lo, hi).unwrap()
    }

    #[test]
    fn subtract_middle_of_a_range_leaves_two_pieces() {
        let s = HeaderSet::from_cube(cube(DPORT, 0, 1000)).subtract_cube(&cube(DPORT, 22, 22));
        assert_eq!(s.project(DPORT), vec![(0, 21), (23, 1000)]);
        assert_eq!(
            s.count(),
            HeaderSet::from_cube(cube(DPORT, 0, 1000)).count() / 1001 * 1000
        );
    }

    #[test]
    fn insert_keeps_cubes_disjoint() {
        let s = HeaderSet::from_cubes([cube(DPORT, 0, 100), cube(DPORT, 50, 150)]);
        let per_port = HeaderSet::from_cube(cube(DPORT, 0, 0)).count();
        assert_eq!(s.count(), 151 * per_port);
        assert_eq!(s.project(DPORT), vec![(0, 150)]);
    }

    #[test]
    fn two_dimensional_difference_is_exact() {
        // ports 0-99 from 10.0.0.0/8, minus port 80 from 10.1.0.0/16
        let a = cube(DPORT, 0, 99)
            .with(SRC, 0x0A00_0000, 0x0AFF_FFFF)
            .unwrap();
        let b = cube(DPORT, 80, 80)
            .with(SRC, 0x0A01_0000, 0x0A01_FFFF)
            .unwrap();
        let s = HeaderSet::from_cube(a).subtract_cube(&b);
        let p = |src: u32, port: u32| [6, src, 1, 0, port];
        assert!(!s.contains(p(0x0A01_0203, 80)));
        assert!(s.contains(p(0x0A02_0203, 80)));
        assert!(s.contains(p(0x0A01_0203, 81)));
        assert_eq!(
            s.count(),
            HeaderSet::from_cube(a).count() - HeaderSet::from_cube(b).count()
        );
    }

    #[test]
    fn ranges_and_cidrs() {
        assert_eq!(range_to_cidrs(0, u32::MAX), vec!["0.0.0.0/0"]);
        assert_eq!(range_to_cidrs(10, 13), vec!["0.0.0.10/31", "0.0.0.12/31"]);
        assert_eq!(
            cidr_range(&Cidr::parse("10.0.0.0/24").unwrap()),
            Some((0x0A00_0000, 0x0A00_00FF))
        );
        assert_eq!(
            subtract_ranges(&[(0, 100)], &[(10, 20), (30, 40)]),
            vec![(0, 9), (21, 29), (41, 100)]
        );
        assert_eq!(
            merge(vec![(5, 9), (0, 4), (20, 30), (25, 26)]),
            vec![(0, 9), (20, 30)]
        );
        let inet = internet_v4();
        assert_eq!(inet.first(), Some(&(0x0100_0000, 0x09FF_FFFF)));
        assert_eq!(inet.last(), Some(&(0xC0A9_0000, 0xDFFF_FFFF)));
    }
}
