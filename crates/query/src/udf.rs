//! The functions Logs Insights has and DataFusion lacks: IP tests, CloudWatch's natural sort
//! order, `@message` rebuilt from the stored fields, and `parse`.
//!
//! Everything that can be checked when the query is planned (a CIDR, a pattern) is checked
//! then and baked into the function, so a bad literal is a query error with a caret, and rows
//! are never re-parsed per value.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, BooleanArray, BooleanBufferBuilder, RecordBatch,
    StringBuilder, StructArray,
};
use arrow::datatypes::{DataType, Field, Fields, Schema};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Which addresses an IP test accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Any,
    V4,
    V6,
}

/// A parsed CIDR block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (
                a.trim().parse::<IpAddr>().ok()?,
                p.trim().parse::<u8>().ok()?,
            ),
            None => {
                let a: IpAddr = s.trim().parse().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// RFC 1918 (and, for IPv6, unique local fc00::/7): what `isPrivateIP` accepts.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// A globally routable unicast address: valid, not private, and not loopback, link-local,
/// shared (100.64/10), documentation, multicast, broadcast or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    if is_private(ip) {
        return false;
    }
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            let s0 = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s0 & 0xffc0) == 0xfe80
                || (s0 == 0x2001 && v6.segments()[1] == 0x0db8))
        }
    }
}

/// A dotted-quad IPv4 address as `std` reads it (four decimal octets, no leading zeros),
/// without its general parser: the IP functions run on every row of a scan.
pub fn parse_v4(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let (mut addr, mut octet, mut digits, mut dots) = (0u32, 0u32, 0u8, 0u8);
    let mut leading_zero = false;
    for &c in b {
        match c {
            b'0'..=b'9' => {
                if leading_zero || digits == 3 {
                    return None;
                }
                leading_zero = digits == 0 && c == b'0';
                octet = octet * 10 + u32::from(c - b'0');
                digits += 1;
            }
            b'.' => {
                if digits == 0 || octet > 255 || dots == 3 {
                    return None;
                }
                addr = (addr << 8) | octet;
                (octet, digits, leading_zero) = (0, 0, false);
                dots += 1;
            }
            _ => return None,
        }
    }
    (dots == 3 && digits > 0 && octet <= 255).then_some((addr << 8) | octet)
}

fn parse_ip(s: &str, family: Family) -> Option<IpAddr> {
    if family != Family::V6
        && let Some(v4) = parse_v4(s)
    {
        return Some(IpAddr::V4(v4.into()));
    }
    let ip: IpAddr = s.parse().ok()?;
    match (family, ip) {
        (Family::Any, _) | (Family::V4, IpAddr::V4(_)) | (Family::V6, IpAddr::V6(_)) => Some(ip),
        _ => None,
    }
}

/// What a flowwatch function computes. Equality and hashing use the defining text (patterns,
/// CIDRs), as DataFusion requires of functions.
#[derive(Clone, Debug)]
pub enum Kind {
    InSubnet(Cidr, Family),
    ValidIp(Family),
    PrivateIp,
    PublicIp,
    NaturalKey,
    /// The text starts with one of `prefixes` or equals one of `exact` (false when missing):
    /// `isIpv4InSubnet` on a stored address column, whose texts are canonical.
    TextIn {
        prefixes: Vec<String>,
        exact: Vec<String>,
    },
    /// `@message`: the stored text, or the line rebuilt from these columns.
    Message(Vec<String>),
    /// `parse`: a compiled pattern and the fields it yields.
    Parse {
        pattern: String,
        /// Glob patterns (`*` for each field) match without the regex engine.
        glob: Option<Glob>,
        regex: regex::Regex,
        names: Vec<String>,
        /// Capture group of each name.
        groups: Vec<usize>,
    },
}

impl Kind {
    fn key(&self) -> String {
        match self {
            Kind::InSubnet(c, f) => format!("in_subnet {:?}/{} {f:?}", c.addr, c.prefix),
            Kind::ValidIp(f) => format!("valid_ip {f:?}"),
            Kind::PrivateIp => "private_ip".into(),
            Kind::PublicIp => "public_ip".into(),
            Kind::NaturalKey => "natural_key".into(),
            Kind::TextIn { prefixes, exact } => {
                format!("text_in {} | {}", prefixes.join(","), exact.join(","))
            }
            Kind::Message(cols) => format!("message {}", cols.join(",")),
            Kind::Parse { pattern, names, .. } => format!("parse {pattern} {}", names.join(",")),
        }
    }
}

#[derive(Debug)]
pub struct FwUdf {
    name: String,
    kind: Kind,
    signature: Signature,
}

impl PartialEq for FwUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.kind.key() == other.kind.key()
    }
}

impl Eq for FwUdf {}

impl Hash for FwUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.kind.key().hash(state);
    }
}

/// A scalar function for `kind`; `name` is how it shows in plans.
pub fn udf(name: &str, kind: Kind) -> ScalarUDF {
    let signature = match &kind {
        // Volatile, though they are not: the optimizer must not move a filter on their
        // result below an earlier filter (`filter action = "REJECT" | parse @message … |
        // filter dp = "22"` would otherwise rebuild and parse every record, not only the
        // rejected ones). A volatile expression keeps filters above its projection.
        Kind::Message(cols) => Signature::any(cols.len() + 2, Volatility::Volatile),
        Kind::Parse { .. } => Signature::string(1, Volatility::Volatile),
        // Any string type as it is: a cast to Utf8 would copy every value of a Utf8View scan.
        _ => Signature::string(1, Volatility::Immutable),
    };
    ScalarUDF::new_from_impl(FwUdf {
        name: name.to_string(),
        kind,
        signature,
    })
}

impl FwUdf {
    /// What the function computes.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }
}

impl ScalarUDFImpl for FwUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(match &self.kind {
            Kind::InSubnet(..)
            | Kind::ValidIp(_)
            | Kind::PrivateIp
            | Kind::PublicIp
            | Kind::TextIn { .. } => DataType::Boolean,
            Kind::NaturalKey => DataType::Binary,
            Kind::Message(_) => DataType::Utf8,
            Kind::Parse { names, .. } => DataType::Struct(parse_fields(names)),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out: ArrayRef = match &self.kind {
            Kind::Message(cols) => message(cols, &arrays)?,
            Kind::InSubnet(cidr, family) => match cidr.addr {
                IpAddr::V4(net) if *family != Family::V6 => {
                    let mask = u32::MAX
                        .checked_shl(32 - u32::from(cidr.prefix))
                        .unwrap_or(0);
                    let net = u32::from(net) & mask;
                    Arc::new(bool_map(&arrays[0], |s| {
                        parse_v4(s).is_some_and(|ip| ip & mask == net)
                    })?)
                }
                _ => Arc::new(bool_map(&arrays[0], |s| {
                    parse_ip(s, *family).is_some_and(|ip| cidr.contains(ip))
                })?),
            },
            Kind::TextIn { prefixes, exact } => Arc::new(text_in(&arrays[0], prefixes, exact)?),
            Kind::ValidIp(family) => {
                Arc::new(bool_map(&arrays[0], |s| parse_ip(s, *family).is_some())?)
            }
            Kind::PrivateIp => Arc::new(bool_map(&arrays[0], |s| {
                parse_ip(s, Family::Any).is_some_and(is_private)
            })?),
            Kind::PublicIp => Arc::new(bool_map(&arrays[0], |s| {
                parse_ip(s, Family::Any).is_some_and(is_public)
            })?),
            Kind::NaturalKey => {
                let mut b = BinaryBuilder::with_capacity(rows, rows * 16);
                let mut key = Vec::with_capacity(64);
                for_each_str(&arrays[0], |v| match v {
                    Some(s) => {
                        natural_key(s, &mut key);
                        b.append_value(&key);
                    }
                    None => b.append_null(),
                })?;
                Arc::new(b.finish())
            }
            Kind::Parse {
                glob: Some(glob),
                names,
                ..
            } => parse_glob(glob, names, &arrays[0])?,
            Kind::Parse {
                regex,
                names,
                groups,
                ..
            } => parse(regex, names, groups, &arrays[0])?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// Calls `f` on each value of a string array of any encoding, without copying the values.
pub(crate) fn for_each_str(a: &ArrayRef, mut f: impl FnMut(Option<&str>)) -> DfResult<()> {
    match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().iter().for_each(f),
        DataType::LargeUtf8 => a.as_string::<i64>().iter().for_each(f),
        DataType::Utf8View => a.as_string_view().iter().for_each(f),
        _ => {
            let a = arrow::compute::cast(a, &DataType::Utf8)?;
            a.as_string::<i32>().iter().for_each(&mut f);
        }
    }
    Ok(())
}

/// [`Kind::TextIn`]. On string views a prefix of at most 4 bytes is compared in the view
/// itself (every view holds the first 4 bytes inline), without touching the data buffers.
fn text_in(input: &ArrayRef, prefixes: &[String], exact: &[String]) -> DfResult<BooleanArray> {
    let slow = |v: &str| {
        prefixes.iter().any(|p| v.starts_with(p.as_str())) || exact.iter().any(|e| v == e)
    };
    if let (DataType::Utf8View, true) = (
        input.data_type(),
        exact.is_empty() && prefixes.iter().all(|p| p.len() <= 4),
    ) {
        let a = input.as_string_view();
        // (prefix bytes as the view stores them at bits 32.., mask, length)
        let tests: Vec<(u128, u128, u32)> = prefixes
            .iter()
            .map(|p| {
                let mut bytes = [0u8; 16];
                bytes[4..4 + p.len()].copy_from_slice(p.as_bytes());
                let mut mask = [0u8; 16];
                mask[4..4 + p.len()].fill(0xff);
                (
                    u128::from_le_bytes(bytes),
                    u128::from_le_bytes(mask),
                    p.len() as u32,
                )
            })
            .collect();
        let mut out = BooleanBufferBuilder::new(a.len());
        for (i, &view) in a.views().iter().enumerate() {
            let len = view as u32;
            let hit = a.is_valid(i)
                && tests
                    .iter()
                    .any(|&(bytes, mask, n)| len >= n && view & mask == bytes);
            out.append(hit);
        }
        return Ok(BooleanArray::new(out.finish(), None));
    }
    bool_map(input, slow)
}

fn bool_map(input: &ArrayRef, f: impl Fn(&str) -> bool) -> DfResult<BooleanArray> {
    // Null in, false out: `isIpInSubnet(missing, …)` is false, as a filter expects.
    let mut out = BooleanBufferBuilder::new(input.len());
    for_each_str(input, |v| out.append(v.is_some_and(&f)))?;
    Ok(BooleanArray::new(out.finish(), None))
}

pub fn parse_fields(names: &[String]) -> Fields {
    names
        .iter()
        .map(|n| Field::new(n, DataType::Utf8, true))
        .collect()
}

/// A `parse` glob: literal parts around `*`s, each `*` a field. It matches as the regex
/// `glob_regex` builds from it would: unanchored, leftmost; every `*` but the last lazy (up
/// to the first occurrence of the next part), the last greedy (up to the last occurrence).
/// Taking the first occurrence is always right for a lazy `*`: what follows starts with
/// another `*`, which can absorb any text, so if the rest matches after a later occurrence
/// it matches after the first one too.
#[derive(Clone, Debug)]
pub struct Glob {
    parts: Vec<String>,
}

impl Glob {
    pub fn new(glob: &str) -> Glob {
        Glob {
            parts: glob.split('*').map(str::to_string).collect(),
        }
    }

    /// Number of fields (`*`s).
    pub fn fields(&self) -> usize {
        self.parts.len() - 1
    }

    /// The byte range of each field in `s`, or false when `s` does not match.
    pub fn captures(&self, s: &str, out: &mut Vec<(usize, usize)>) -> bool {
        out.clear();
        let n = self.parts.len();
        let first = &self.parts[0];
        let Some(start) = s.find(first.as_str()) else {
            return false;
        };
        let mut pos = start + first.len();
        if n == 1 {
            return true;
        }
        for (i, part) in self.parts.iter().enumerate().skip(1) {
            let found = if i + 1 == n {
                // The last `*` is greedy: up to the last occurrence of the final part.
                if part.is_empty() {
                    Some(s.len())
                } else {
                    s[pos..].rfind(part.as_str()).map(|at| pos + at)
                }
            } else {
                s[pos..].find(part.as_str()).map(|at| pos + at)
            };
            let Some(at) = found else {
                return false;
            };
            out.push((pos, at));
            pos = at + part.len();
        }
        true
    }
}

/// The struct `parse` returns: one Utf8 field per name. `capture(text, field)` gives field
/// `field`'s byte range in `text`, after `matches(text)` said whether the text matched.
fn parse_struct(
    names: &[String],
    input: &ArrayRef,
    mut matches: impl FnMut(&str) -> bool,
    capture: impl Fn(usize) -> Option<(usize, usize)>,
) -> DfResult<ArrayRef> {
    let mut builders: Vec<StringBuilder> = names.iter().map(|_| StringBuilder::new()).collect();
    for_each_str(input, |v| {
        let matched = v.filter(|s| matches(s));
        for (i, b) in builders.iter_mut().enumerate() {
            match matched.and_then(|s| capture(i).map(|(a, z)| &s[a..z])) {
                Some(text) => b.append_value(text),
                None => b.append_null(),
            }
        }
    })?;
    let arrays: Vec<ArrayRef> = builders
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    Ok(Arc::new(StructArray::new(
        parse_fields(names),
        arrays,
        None,
    )))
}

fn parse_glob(glob: &Glob, names: &[String], input: &ArrayRef) -> DfResult<ArrayRef> {
    let spans = std::cell::RefCell::new(Vec::with_capacity(glob.fields()));
    parse_struct(
        names,
        input,
        |s| glob.captures(s, &mut spans.borrow_mut()),
        |i| spans.borrow().get(i).copied(),
    )
}

fn parse(
    regex: &regex::Regex,
    names: &[String],
    index: &[usize],
    input: &ArrayRef,
) -> DfResult<ArrayRef> {
    let locs = std::cell::RefCell::new(regex.capture_locations());
    parse_struct(
        names,
        input,
        |s| regex.captures_read(&mut locs.borrow_mut(), s).is_some(),
        |i| index.get(i).and_then(|&g| locs.borrow().get(g)),
    )
}

fn message(cols: &[String], arrays: &[ArrayRef]) -> DfResult<ArrayRef> {
    let names = [
        flowwatch_flowlog::schema::MESSAGE,
        flowwatch_flowlog::schema::LOG_FORMAT,
    ];
    let mut fields = Vec::with_capacity(arrays.len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(arrays.len());
    for (i, a) in arrays.iter().enumerate() {
        let a = match a.data_type() {
            // Utf8View is read as it is (rebuild_messages handles it): no copy.
            DataType::LargeUtf8 | DataType::Dictionary(..) => {
                arrow::compute::cast(a, &DataType::Utf8)?
            }
            _ => a.clone(),
        };
        let name = match names.get(i) {
            Some(n) => n.to_string(),
            None => cols[i - 2].clone(),
        };
        fields.push(Field::new(name, a.data_type().clone(), true));
        columns.push(a);
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    Ok(Arc::new(flowwatch_flowlog::rebuild_messages(&batch)))
}

/// A byte key whose order is CloudWatch's natural order: values that are not numbers first,
/// compared run by run (non-digit runs by code point, digit runs by length then value, so
/// `5A` < `111A` and `10.0.0.9` < `10.0.0.10`); then numbers, numerically.
pub fn natural_key(s: &str, key: &mut Vec<u8>) {
    key.clear();
    if let Ok(n) = s.trim().parse::<f64>()
        && n.is_finite()
    {
        key.push(2);
        let bits = n.to_bits();
        let ordered = if n.is_sign_negative() {
            !bits
        } else {
            bits | (1 << 63)
        };
        key.extend_from_slice(&ordered.to_be_bytes());
        return;
    }
    key.push(1);
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let run = &bytes[start..i];
            key.push(b'0');
            key.extend_from_slice(&(run.len() as u32).to_be_bytes());
            key.extend_from_slice(run);
        } else {
            key.push(bytes[i]);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_on_views_matches_the_plain_string_test() {
        use arrow::array::{StringArray, StringViewArray};
        let texts = vec![
            Some("10.0.0.1"),
            Some("10.255.255.255"), // longer than a view's inline part
            Some("100.1.2.3"),
            Some("1.0.0.1"),
            None,
            Some("10."),
            Some("10"),
            Some("172.16.5.4"),
            Some("172.31.0.1"),
        ];
        let view: ArrayRef = Arc::new(StringViewArray::from(texts.clone()));
        let plain: ArrayRef = Arc::new(StringArray::from(texts.clone()));
        let cases: Vec<(Vec<String>, Vec<String>)> = vec![
            (vec!["10.".into()], vec![]),
            (vec!["10.".into(), "1.".into()], vec![]),
            (vec!["172.16.".into()], vec![]), // 7 bytes: the general path
            (vec![], vec!["10.0.0.1".into()]),
        ];
        for (prefixes, exact) in cases {
            let v = text_in(&view, &prefixes, &exact).unwrap();
            let p = text_in(&plain, &prefixes, &exact).unwrap();
            assert_eq!(v, p, "{prefixes:?} {exact:?}");
            assert_eq!(v.null_count(), 0, "missing addresses are false, not null");
            let want: Vec<bool> = texts
                .iter()
                .map(|t| {
                    t.is_some_and(|t| {
                        prefixes.iter().any(|x| t.starts_with(x.as_str()))
                            || exact.iter().any(|x| t == x)
                    })
                })
                .collect();
            assert_eq!(v.iter().map(|b| b.unwrap()).collect::<Vec<_>>(), want);
        }
    }

    fn key(s: &str) -> Vec<u8> {
        let mut k = vec![];
        natural_key(s, &mut k);
        k
    }

    #[test]
    fn natural_order_matches_cloudwatch_rules() {
        let mut v = vec![
            "111A",
            "5A",
            "b",
            "10",
            "9",
            "a10",
            "a9",
            "10.0.0.10",
            "10.0.0.9",
        ];
        v.sort_by_key(|s| key(s));
        assert_eq!(
            v,
            [
                "5A",
                "10.0.0.9",
                "10.0.0.10",
                "111A",
                "a9",
                "a10",
                "b",
                "9",
                "10"
            ]
        );
    }

    #[test]
    fn fast_ipv4_parser_agrees_with_std() {
        for s in [
            "10.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "256.0.0.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "1.2.3.4 ",
            "1.2.3.",
            ".1.2.3",
            "1.2.3.0400",
            "-",
            "",
            "2001:db8::1",
            "1.2.3.a",
        ] {
            let std = s.parse::<std::net::Ipv4Addr>().ok().map(u32::from);
            assert_eq!(parse_v4(s), std, "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn ipv4_parser_matches_std_on_random_text(s in "[0-9.]{0,16}") {
            let std = s.parse::<std::net::Ipv4Addr>().ok().map(u32::from);
            proptest::prop_assert_eq!(parse_v4(&s), std);
        }

        /// The glob matcher finds the same fields as the regex the glob stands for.
        #[test]
        fn glob_matches_like_its_regex(
            glob in "[ab*:]{0,8}",
            text in "[ab: ]{0,16}",
        ) {
            let re = regex::Regex::new(&crate::plan::glob_regex(&glob)).expect("regex");
            let g = Glob::new(&glob);
            let mut spans = vec![];
            let ours = g.captures(&text, &mut spans).then(|| {
                spans.iter().map(|&(a, z)| text[a..z].to_string()).collect::<Vec<_>>()
            });
            let theirs = re.captures(&text).map(|c| {
                (1..c.len())
                    .map(|i| c.get(i).map_or(String::new(), |m| m.as_str().to_string()))
                    .collect::<Vec<_>>()
            });
            proptest::prop_assert_eq!(ours, theirs, "glob {:?} text {:?}", glob, text);
        }
    }

    #[test]
    fn glob_fields_of_a_flow_log_line() {
        let g = Glob::new("* * * * * * * * * * * * * *");
        let line = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
        let mut spans = vec![];
        assert!(g.captures(line, &mut spans));
        let fields: Vec<&str> = spans.iter().map(|&(a, z)| &line[a..z]).collect();
        assert_eq!(fields, line.split(' ').collect::<Vec<_>>());
        assert!(!g.captures("2 too few", &mut spans));
        let g = Glob::new("user=* action=*;");
        assert!(g.captures("x user=bob action=a;b;", &mut spans));
        assert_eq!(spans.len(), 2);
        assert_eq!(&"x user=bob action=a;b;"[spans[1].0..spans[1].1], "a;b");
    }

    #[test]
    fn subnets_and_address_classes() {
        let c = Cidr::parse("192.0.2.0/24").expect("cidr");
        assert!(c.contains("192.0.2.77".parse().expect("ip")));
        assert!(!c.contains("192.0.3.1".parse().expect("ip")));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(
            Cidr::parse("0.0.0.0/0")
                .expect("cidr")
                .contains("8.8.8.8".parse().expect("ip"))
        );
        let v6 = Cidr::parse("2001:db8::/32").expect("cidr");
        assert!(v6.contains("2001:db8::1".parse().expect("ip")));
        assert!(!v6.contains("10.0.0.1".parse().expect("ip")));
        assert!(is_private("172.31.83.158".parse().expect("ip")));
        assert!(!is_private("172.32.0.1".parse().expect("ip")));
        assert!(is_public("61.177.172.128".parse().expect("ip")));
        assert!(!is_public("100.64.0.1".parse().expect("ip")));
        assert!(!is_public("127.0.0.1".parse().expect("ip")));
    }
}
