//! The function table: every function the language knows, its arity and whether it aggregates.
//! Names match case-insensitively (`isipv4insubnet` is `isIpv4InSubnet`); the table's spelling
//! is canonical.

/// One function of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    pub name: &'static str,
    pub min_args: usize,
    /// `usize::MAX` for variadic functions.
    pub max_args: usize,
    /// An aggregate (only inside `stats`).
    pub aggregate: bool,
    /// Accepts `*` as its only argument (`count(*)`).
    pub star: bool,
    /// One-line signature shown in errors.
    pub signature: &'static str,
}

const fn scalar(name: &'static str, min: usize, max: usize, signature: &'static str) -> Function {
    Function {
        name,
        min_args: min,
        max_args: max,
        aggregate: false,
        star: false,
        signature,
    }
}

const fn agg(name: &'static str, min: usize, max: usize, signature: &'static str) -> Function {
    Function {
        name,
        min_args: min,
        max_args: max,
        aggregate: true,
        star: false,
        signature,
    }
}

const MANY: usize = usize::MAX;

pub static FUNCTIONS: &[Function] = &[
    // numeric
    scalar("abs", 1, 1, "abs(number)"),
    scalar("ceil", 1, 1, "ceil(number)"),
    scalar("floor", 1, 1, "floor(number)"),
    scalar("greatest", 1, MANY, "greatest(a, b, ...)"),
    scalar("least", 1, MANY, "least(a, b, ...)"),
    scalar("log", 1, 1, "log(number)"),
    scalar("sqrt", 1, 1, "sqrt(number)"),
    scalar("round", 1, 2, "round(number[, digits])"),
    // general
    scalar("ispresent", 1, 1, "ispresent(field)"),
    scalar("coalesce", 1, MANY, "coalesce(a, b, ...)"),
    // string
    scalar("isempty", 1, 1, "isempty(field)"),
    scalar("isblank", 1, 1, "isblank(field)"),
    scalar("concat", 1, MANY, "concat(a, b, ...)"),
    scalar("ltrim", 1, 2, "ltrim(string[, characters])"),
    scalar("rtrim", 1, 2, "rtrim(string[, characters])"),
    scalar("trim", 1, 2, "trim(string[, characters])"),
    scalar("strlen", 1, 1, "strlen(string)"),
    scalar("toupper", 1, 1, "toupper(string)"),
    scalar("tolower", 1, 1, "tolower(string)"),
    scalar("substr", 2, 3, "substr(string, start[, length])"),
    scalar("replace", 3, 3, "replace(string, find, replacement)"),
    scalar(
        "strcontains",
        2,
        3,
        "strcontains(string, search[, caseInsensitive])",
    ),
    scalar("startsWith", 2, 2, "startsWith(string, prefix)"),
    scalar("endsWith", 2, 2, "endsWith(string, suffix)"),
    // datetime
    scalar("bin", 1, 1, "bin(period)"),
    scalar("datefloor", 2, 2, "datefloor(timestamp, period)"),
    scalar("dateceil", 2, 2, "dateceil(timestamp, period)"),
    scalar("fromMillis", 1, 1, "fromMillis(milliseconds)"),
    scalar("toMillis", 1, 1, "toMillis(timestamp)"),
    scalar("now", 0, 0, "now()"),
    // IP addresses
    scalar("isValidIp", 1, 1, "isValidIp(field)"),
    scalar("isValidIpV4", 1, 1, "isValidIpV4(field)"),
    scalar("isValidIpV6", 1, 1, "isValidIpV6(field)"),
    scalar("isIpInSubnet", 2, 2, "isIpInSubnet(field, \"cidr\")"),
    scalar("isIpv4InSubnet", 2, 2, "isIpv4InSubnet(field, \"cidr\")"),
    scalar("isIpv6InSubnet", 2, 2, "isIpv6InSubnet(field, \"cidr\")"),
    scalar("isPrivateIP", 1, 1, "isPrivateIP(field)"),
    scalar("isPublicIP", 1, 1, "isPublicIP(field)"),
    // aggregates
    agg("avg", 1, 1, "avg(number)"),
    Function {
        name: "count",
        min_args: 0,
        max_args: 1,
        aggregate: true,
        star: true,
        signature: "count(*) or count(field)",
    },
    agg("count_distinct", 1, 1, "count_distinct(field)"),
    agg("max", 1, 1, "max(field)"),
    agg("min", 1, 1, "min(field)"),
    agg("pct", 2, 2, "pct(number, percentile)"),
    agg("stddev", 1, 1, "stddev(number)"),
    agg("sum", 1, 1, "sum(number)"),
    agg("earliest", 1, 1, "earliest(field)"),
    agg("latest", 1, 1, "latest(field)"),
    agg("sortsFirst", 1, 1, "sortsFirst(field)"),
    agg("sortsLast", 1, 1, "sortsLast(field)"),
];

/// The function named `name`, case-insensitively.
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// The known name nearest to `name`, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
