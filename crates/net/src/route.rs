//! Route selection (spec §4): longest prefix match over CIDR and prefix-list routes, v4 and v6
//! separate (a CIDR only matches its family); on equal prefix length a static CIDR route beats
//! a prefix-list route, which beats a propagated one; remaining ties go to the earlier route
//! (stable). Transit-gateway tables: longest prefix, static before propagated.

use crate::ip::Addr;
use crate::model::{Route, RouteTable, TgwRoute, TgwRouteTable};

/// The route `dst` takes in `rt`, if any. Blackhole routes are returned (the caller drops).
pub fn lookup(rt: &RouteTable, dst: Addr) -> Option<&Route> {
    let mut best: Option<(&Route, u8)> = None;
    for r in &rt.routes {
        let Some(len) = r
            .cidrs
            .iter()
            .filter(|c| c.contains(dst))
            .map(|c| c.len)
            .max()
        else {
            continue;
        };
        best = match best {
            Some((b, bl)) if bl > len || (bl == len && b.rank <= r.rank) => Some((b, bl)),
            _ => Some((r, len)),
        };
    }
    best.map(|(r, _)| r)
}

/// The route `dst` takes in a transit-gateway route table.
pub fn lookup_tgw(rt: &TgwRouteTable, dst: Addr) -> Option<&TgwRoute> {
    let mut best: Option<&TgwRoute> = None;
    for r in rt.routes.iter().filter(|r| r.cidr.contains(dst)) {
        best = match best {
            Some(b)
                if b.cidr.len > r.cidr.len
                    || (b.cidr.len == r.cidr.len && (!b.propagated || r.propagated)) =>
            {
                Some(b)
            }
            _ => Some(r),
        };
    }
    best
}
