//! The traffic file: flows, scanners and capture losses, parsed from TOML into plain typed values. Endpoints
//! stay strings here; [`crate::simulate`] resolves them against the snapshot (and names the
//! line of the flow it cannot resolve).

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Result, SimError};

/// IP protocol numbers the traffic file names.
const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;

/// A parsed traffic file.
#[derive(Clone, Debug, PartialEq)]
pub struct Traffic {
    pub flows: Vec<Flow>,
    pub scanners: Vec<Scanner>,
    pub capture_losses: Vec<CaptureLoss>,
}

/// How a connection picks its source port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourcePort {
    /// A random port in 49152–65535 per connection (the default).
    Ephemeral,
    /// A random port in the inclusive range per connection (a single port when equal).
    Range(u16, u16),
}

/// When a flow or scanner is active, as offsets in seconds from the simulation start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub start: u64,
    /// `None`: until the end of the simulation.
    pub end: Option<u64>,
}

impl Schedule {
    pub const ALWAYS: Schedule = Schedule {
        start: 0,
        end: None,
    };
}

/// Repeated connections between two endpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    pub name: String,
    /// 1-based line of the `[[flow]]` table, for error messages.
    pub line: usize,
    /// Instance id, ENI id, private or public address of an ENI, or an internet address.
    pub source: String,
    pub destination: String,
    /// IP protocol number (6, 17, 1, …).
    pub protocol: u8,
    /// Destination ports, inclusive; each connection picks one.
    pub ports: (u16, u16),
    pub source_port: SourcePort,
    /// Connections per minute.
    pub rate: f64,
    pub packets: u64,
    pub bytes: u64,
    pub reply_packets: u64,
    pub reply_bytes: u64,
    /// Seconds from the first to the last packet of one connection.
    pub connection_seconds: u32,
    pub schedule: Schedule,
}

/// An internet address probing a port range on a target, one probe per port in turn.
#[derive(Clone, Debug, PartialEq)]
pub struct Scanner {
    pub name: String,
    pub line: usize,
    pub source: String,
    pub target: String,
    pub protocol: u8,
    pub ports: (u16, u16),
    /// Probes per minute.
    pub rate: f64,
    pub schedule: Schedule,
}

/// Records lost in one capture window of one interface: the window gets a SKIPDATA record.
#[derive(Clone, Debug, PartialEq)]
pub struct CaptureLoss {
    pub name: String,
    pub line: usize,
    /// ENI or instance id.
    pub interface: String,
    /// Offset in seconds from the simulation start; the capture window holding it loses.
    pub at: u64,
    /// Fraction (0–1) of the window's records dropped, each independently.
    pub lost: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    flow: Vec<Spanned<RawFlow>>,
    #[serde(default)]
    scanner: Vec<Spanned<RawScanner>>,
    #[serde(default)]
    capture_loss: Vec<Spanned<RawCaptureLoss>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCaptureLoss {
    name: Option<String>,
    interface: String,
    at: NumOrText,
    lost: Option<NumOrText>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    Num(i64),
    Float(f64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlow {
    name: Option<String>,
    source: String,
    destination: String,
    #[serde(default = "default_protocol")]
    protocol: String,
    port: Option<NumOrText>,
    source_port: Option<NumOrText>,
    rate: NumOrText,
    packets: Option<u64>,
    bytes: Option<u64>,
    reply_packets: Option<u64>,
    reply_bytes: Option<u64>,
    connection_seconds: Option<u32>,
    schedule: Option<String>,
    start: Option<NumOrText>,
    end: Option<NumOrText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScanner {
    name: Option<String>,
    source: String,
    target: String,
    #[serde(default = "default_protocol")]
    protocol: String,
    ports: NumOrText,
    rate: NumOrText,
    schedule: Option<String>,
    start: Option<NumOrText>,
    end: Option<NumOrText>,
}

fn default_protocol() -> String {
    "tcp".into()
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

impl Traffic {
    /// Parse a traffic file (see the crate docs for the format). Errors name the line and
    /// what was expected.
    pub fn parse(text: &str) -> Result<Traffic> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            SimError::traffic(line, e.message().trim().to_string())
        })?;
        let mut flows = Vec::with_capacity(raw.flow.len());
        for (i, f) in raw.flow.into_iter().enumerate() {
            let line = line_of(text, f.span().start);
            flows.push(flow(f.into_inner(), line, i).map_err(|m| SimError::traffic(line, m))?);
        }
        let mut scanners = Vec::with_capacity(raw.scanner.len());
        for (i, s) in raw.scanner.into_iter().enumerate() {
            let line = line_of(text, s.span().start);
            scanners
                .push(scanner(s.into_inner(), line, i).map_err(|m| SimError::traffic(line, m))?);
        }
        let mut capture_losses = Vec::with_capacity(raw.capture_loss.len());
        for (i, c) in raw.capture_loss.into_iter().enumerate() {
            let line = line_of(text, c.span().start);
            capture_losses.push(
                capture_loss(c.into_inner(), line, i).map_err(|m| SimError::traffic(line, m))?,
            );
        }
        Ok(Traffic {
            flows,
            scanners,
            capture_losses,
        })
    }
}

fn flow(r: RawFlow, line: usize, i: usize) -> Result<Flow, String> {
    let name = r.name.unwrap_or_else(|| format!("flow-{}", i + 1));
    let ctx = |m: String| format!("flow '{name}': {m}");
    let protocol = protocol(&r.protocol).map_err(ctx)?;
    let ports = match (&r.port, protocol) {
        (Some(p), _) => port_range(p, "port").map_err(ctx)?,
        (None, TCP | UDP) => {
            return Err(ctx(
                "missing 'port': expected a destination port such as 443 or a range \"8000-8080\""
                    .into(),
            ));
        }
        (None, _) => (0, 0),
    };
    let source_port = match &r.source_port {
        None => SourcePort::Ephemeral,
        Some(NumOrText::Text(t)) if t.trim() == "ephemeral" => SourcePort::Ephemeral,
        Some(p) => {
            let (a, b) = port_range(p, "source_port").map_err(ctx)?;
            SourcePort::Range(a, b)
        }
    };
    let rate = rate(&r.rate).map_err(ctx)?;
    let packets = r.packets.unwrap_or(10);
    if packets == 0 {
        return Err(ctx("'packets' must be at least 1".into()));
    }
    let bytes = r.bytes.unwrap_or(packets * 100);
    if bytes < packets {
        return Err(ctx(format!(
            "'bytes' ({bytes}) must be at least 'packets' ({packets})"
        )));
    }
    let reply_packets = r.reply_packets.unwrap_or(packets);
    let reply_bytes = r.reply_bytes.unwrap_or(bytes);
    let schedule =
        schedule(r.schedule.as_deref(), r.start.as_ref(), r.end.as_ref()).map_err(ctx)?;
    Ok(Flow {
        name,
        line,
        source: r.source,
        destination: r.destination,
        protocol,
        ports,
        source_port,
        rate,
        packets,
        bytes,
        reply_packets,
        reply_bytes,
        connection_seconds: r.connection_seconds.unwrap_or(1),
        schedule,
    })
}

fn scanner(r: RawScanner, line: usize, i: usize) -> Result<Scanner, String> {
    let name = r.name.unwrap_or_else(|| format!("scanner-{}", i + 1));
    let ctx = |m: String| format!("scanner '{name}': {m}");
    let protocol = protocol(&r.protocol).map_err(ctx)?;
    if protocol != TCP && protocol != UDP {
        return Err(ctx(format!(
            "protocol '{}': expected tcp or udp for a port scan",
            r.protocol
        )));
    }
    let ports = port_range(&r.ports, "ports").map_err(ctx)?;
    let rate = rate(&r.rate).map_err(ctx)?;
    let schedule =
        schedule(r.schedule.as_deref(), r.start.as_ref(), r.end.as_ref()).map_err(ctx)?;
    Ok(Scanner {
        name,
        line,
        source: r.source,
        target: r.target,
        protocol,
        ports,
        rate,
        schedule,
    })
}

fn capture_loss(r: RawCaptureLoss, line: usize, i: usize) -> Result<CaptureLoss, String> {
    let name = r.name.unwrap_or_else(|| format!("capture-loss-{}", i + 1));
    let ctx = |m: String| format!("capture loss '{name}': {m}");
    let at = offset(&r.at, "at").map_err(ctx)?;
    let lost = match &r.lost {
        None => DEFAULT_LOST,
        Some(NumOrText::Num(n)) => *n as f64,
        Some(NumOrText::Float(f)) => *f,
        Some(NumOrText::Text(t)) => t.trim().parse::<f64>().unwrap_or(f64::NAN),
    };
    if !(0.0..=1.0).contains(&lost) {
        return Err(ctx(format!(
            "'lost' = {}: expected the fraction of the window's records lost, 0 to 1",
            match &r.lost {
                Some(NumOrText::Text(t)) => format!("\"{t}\""),
                _ => lost.to_string(),
            }
        )));
    }
    Ok(CaptureLoss {
        name,
        line,
        interface: r.interface,
        at,
        lost,
    })
}

/// `lost` when the table does not say.
const DEFAULT_LOST: f64 = 0.6;

fn protocol(s: &str) -> Result<u8, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "tcp" => Ok(TCP),
        "udp" => Ok(UDP),
        "icmp" => Ok(ICMP),
        n => n.parse::<u8>().map_err(|_| {
            format!("protocol '{s}': expected tcp, udp, icmp or a protocol number 0-255")
        }),
    }
}

fn port_range(v: &NumOrText, key: &str) -> Result<(u16, u16), String> {
    let bad = |got: String| {
        format!("'{key}' = {got}: expected a port 0-65535 or a range such as \"1-1024\"")
    };
    let one = |s: &str| s.trim().parse::<u16>().map_err(|_| bad(format!("\"{s}\"")));
    match v {
        NumOrText::Num(n) => u16::try_from(*n)
            .map(|p| (p, p))
            .map_err(|_| bad(n.to_string())),
        NumOrText::Float(f) => Err(bad(f.to_string())),
        NumOrText::Text(t) => {
            let (a, b) = match t.split_once('-') {
                Some((a, b)) => (one(a)?, one(b)?),
                None => {
                    let p = one(t)?;
                    (p, p)
                }
            };
            if a > b {
                return Err(bad(format!("\"{t}\" (start after end)")));
            }
            Ok((a, b))
        }
    }
}

fn rate(v: &NumOrText) -> Result<f64, String> {
    let r = match v {
        NumOrText::Num(n) => *n as f64,
        NumOrText::Float(f) => *f,
        NumOrText::Text(t) => t.trim().parse::<f64>().map_err(|_| {
            format!("'rate' = \"{t}\": expected a number of connections per minute")
        })?,
    };
    if !(r.is_finite() && r > 0.0 && r <= 1_000_000.0) {
        return Err(format!(
            "'rate' = {r}: expected connections per minute in (0, 1000000]"
        ));
    }
    Ok(r)
}

/// `90`, `"90s"`, `"10m"`, `"1h30m"`, `"2d"` → seconds.
pub(crate) fn parse_offset(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let (mut total, mut num) = (0u64, None::<u64>);
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(
                num.unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(unit)?)?;
    }
    if num.is_some() {
        return None;
    }
    Some(total)
}

fn offset(v: &NumOrText, key: &str) -> Result<u64, String> {
    let bad = |got: String| {
        format!("'{key}' = {got}: expected an offset such as 90, \"90s\", \"10m\" or \"1h30m\"")
    };
    match v {
        NumOrText::Num(n) => u64::try_from(*n).map_err(|_| bad(n.to_string())),
        NumOrText::Float(f) => Err(bad(f.to_string())),
        NumOrText::Text(t) => parse_offset(t).ok_or_else(|| bad(format!("\"{t}\""))),
    }
}

fn schedule(
    named: Option<&str>,
    start: Option<&NumOrText>,
    end: Option<&NumOrText>,
) -> Result<Schedule, String> {
    if let Some(s) = named
        && s.trim() != "always"
    {
        return Err(format!(
            "'schedule' = \"{s}\": expected \"always\" (or 'start'/'end' offsets)"
        ));
    }
    if named.is_some() && (start.is_some() || end.is_some()) {
        return Err("'schedule = \"always\"' cannot be combined with 'start'/'end'".into());
    }
    let start = start.map(|v| offset(v, "start")).transpose()?.unwrap_or(0);
    let end = end.map(|v| offset(v, "end")).transpose()?;
    if let Some(e) = end
        && e <= start
    {
        return Err(format!("'end' ({e} s) must be after 'start' ({start} s)"));
    }
    Ok(Schedule { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match Traffic::parse(text) {
            Ok(t) => panic!("expected an error, parsed {t:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn minimal_flow_gets_defaults() {
        let t = Traffic::parse(
            "[[flow]]\nsource = \"i-1\"\ndestination = \"8.8.8.8\"\nport = 443\nrate = 2\n",
        )
        .unwrap();
        let f = &t.flows[0];
        assert_eq!(f.name, "flow-1");
        assert_eq!(f.line, 1);
        assert_eq!(
            (f.protocol, f.ports, f.packets, f.bytes),
            (6, (443, 443), 10, 1000)
        );
        assert_eq!(f.source_port, SourcePort::Ephemeral);
        assert_eq!(f.schedule, Schedule::ALWAYS);
    }

    #[test]
    fn errors_name_the_line_and_the_expectation() {
        let e = err("[[flow]]\nsource = \"a\"\ndestination = \"b\"\nport = \"x-2\"\nrate = 1\n");
        assert!(
            e.starts_with("line 1 of the traffic file: flow 'flow-1': 'port'"),
            "{e}"
        );
        let e = err(
            "\n\n[[flow]]\nsource = \"a\"\ndestination = \"b\"\nport = 1\nrate = 1\ncolour = 2\n",
        );
        assert!(e.contains("line 8") || e.contains("line 3"), "{e}");
        assert!(e.contains("colour"), "{e}");
        let e = err("[[flow]]\nsource = \"a\"\n");
        assert!(e.contains("destination"), "{e}");
        let e = err(
            "[[scanner]]\nsource = \"a\"\ntarget = \"b\"\nports = \"1-10\"\nrate = 1\nend = \"1x\"\n",
        );
        assert!(e.contains("'end'"), "{e}");
        let e = err("[[flow]\n");
        assert!(e.starts_with("line 1"), "{e}");
    }

    #[test]
    fn capture_losses_parse_with_defaults_and_errors_name_the_line() {
        let t = Traffic::parse(
            "[[capture_loss]]\ninterface = \"i-1\"\nat = \"13h20m\"\n\n\
             [[capture_loss]]\nname = \"all\"\ninterface = \"eni-2\"\nat = 90\nlost = 1\n",
        )
        .unwrap();
        let c = &t.capture_losses;
        assert_eq!(
            (c[0].name.as_str(), c[0].line, c[0].at),
            ("capture-loss-1", 1, 48_000)
        );
        assert_eq!((c[0].interface.as_str(), c[0].lost), ("i-1", 0.6));
        assert_eq!(
            (c[1].name.as_str(), c[1].line, c[1].at, c[1].lost),
            ("all", 5, 90, 1.0)
        );
        let e = err("\n[[capture_loss]]\ninterface = \"i-1\"\nat = 5\nlost = 1.5\n");
        assert!(
            e.starts_with(
                "line 2 of the traffic file: capture loss 'capture-loss-1': 'lost' = 1.5"
            ),
            "{e}"
        );
        let e = err("[[capture_loss]]\ninterface = \"i-1\"\nat = 5\nlost = \"x\"\n");
        assert!(e.contains("'lost' = \"x\""), "{e}");
        let e = err("[[capture_loss]]\ninterface = \"i-1\"\nat = \"soon\"\n");
        assert!(e.contains("'at' = \"soon\""), "{e}");
        let e = err("\n\n[[capture_loss]]\ninterface = \"i-1\"\nat = 5\nwindow = 2\n");
        assert!(
            (e.contains("line 3") || e.contains("line 6")) && e.contains("window"),
            "{e}"
        );
        let e = err("[[capture_loss]]\nat = 5\n");
        assert!(e.contains("interface"), "{e}");
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("90"), Some(90));
        assert_eq!(parse_offset("1h30m"), Some(5400));
        assert_eq!(parse_offset("2d"), Some(172_800));
        assert_eq!(parse_offset("5"), Some(5));
        assert_eq!(parse_offset("m"), None);
        assert_eq!(parse_offset("10x"), None);
        assert_eq!(parse_offset("10m5"), None);
    }
}
