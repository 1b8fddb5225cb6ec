//! Snapshot loading: walk a directory of `describe-*` JSON outputs, recognise each file by
//! its top-level keys, and link the resources into a [`Snapshot`]. Never fails as a whole and
//! never panics: unreadable files, malformed JSON (with line and column), items of the wrong
//! shape, unknown keys and dangling references all become [`Problem`]s.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Problem, Severity};
use crate::ip::Cidr;
use crate::model::*;
use crate::raw;

/// The id of a resource seen for the first time (a duplicate is skipped silently, a missing id
/// is a warning). Takes the loader and the id tables explicitly (macro hygiene).
macro_rules! fresh {
    ($l:ident, $seen:ident, $file_of:ident; $id:expr, $f:expr, $what:literal) => {{
        match $id {
            Some(id) if !id.is_empty() => {
                if $seen.insert(id.clone()) {
                    $file_of.insert(id.clone(), $f);
                    Some(id.clone())
                } else {
                    None
                }
            }
            _ => {
                $l.warn($f, vec![], format!("{} without an id, skipped", $what));
                None
            }
        }
    }};
}

mod elb;
mod eni;
mod fast;
mod gateways;
mod index;
mod tgw;
mod vpc;

/// Region assumed for files directly under `aws_configs/` (Batfish's default).
pub const DEFAULT_REGION: &str = "us-west-2";
/// Account assumed when the layout names none (Batfish's default).
pub const DEFAULT_ACCOUNT: &str = "default";

/// Top-level keys of AWS outputs that are recognised but not modelled (a note each).
const NOT_MODELLED: &[&str] = &[
    "AvailabilityZones",
    "CustomerGateways",
    "DBInstances",
    "DirectConnectGateways",
    "DirectConnectGatewayAssociations",
    "DhcpOptions",
    "DomainStatusList",
    "InstanceStatuses",
    "LoadBalancerDescriptions",
    "PlacementGroups",
    "Regions",
    "ServiceDetails",
    "ServiceNames",
    "Tags",
    "TargetHealthDescriptions",
    "VirtualInterfaces",
    "Clusters",
    "ClusterSubnetGroups",
    "Functions",
    "clusterArns",
    "DomainNames",
    "DomainStatus",
    "FlowLogs",
    "TrafficMirrorSessions",
    "TrafficMirrorTargets",
    "TrafficMirrorFilters",
    "SecurityGroupRules",
];

/// Keys that carry paging or metadata, skipped silently.
const METADATA: &[&str] = &[
    "ResponseMetadata",
    "NextToken",
    "AdditionalRoutesAvailable",
    "syncToken",
    "createDate",
    "Marker",
    "NextMarker",
];

/// The state shared by the linking phases: the snapshot being built and the id tables that
/// later phases consult.
#[derive(Default)]
pub(super) struct Link {
    s: Snapshot,
    /// Ids taken so far (the first of duplicates wins).
    seen: HashSet<String>,
    /// Id → index of the file it came from (names the file in problems).
    file_of: HashMap<String, usize>,
    pl_index: BTreeMap<String, usize>,
    eni_pos: HashMap<String, usize>,
    instance_state: HashMap<String, bool>,
    /// (file, TGW route table, attachment) propagations, resolved after indexing.
    props: Vec<(usize, usize, String)>,
    /// (id naming the file, ids, message) warnings collected while indexing.
    dangling: Vec<(String, Vec<String>, String)>,
}

/// An ENI to build: where it was read, and the instance (id, running) it was listed under.
type EniSource = (Loc, usize, raw::NetworkInterface, Option<(String, bool)>);

#[derive(Default)]
struct Raw {
    vpcs: Vec<(Loc, usize, raw::Vpc)>,
    subnets: Vec<(Loc, usize, raw::Subnet)>,
    route_tables: Vec<(Loc, usize, raw::RouteTable)>,
    sgs: Vec<(Loc, usize, raw::SecurityGroup)>,
    nacls: Vec<(Loc, usize, raw::NetworkAcl)>,
    enis: Vec<(Loc, usize, raw::NetworkInterface)>,
    reservations: Vec<(Loc, usize, raw::Reservation)>,
    addresses: Vec<(Loc, usize, raw::Address)>,
    igws: Vec<(Loc, usize, raw::InternetGateway)>,
    eigws: Vec<(Loc, usize, raw::EgressOnlyInternetGateway)>,
    nats: Vec<(Loc, usize, raw::NatGateway)>,
    pcxs: Vec<(Loc, usize, raw::VpcPeeringConnection)>,
    tgws: Vec<(Loc, usize, raw::TransitGateway)>,
    tgw_atts: Vec<(Loc, usize, raw::TransitGatewayAttachment)>,
    tgw_vpc_atts: Vec<(Loc, usize, raw::TransitGatewayVpcAttachment)>,
    tgw_rtbs: Vec<(Loc, usize, raw::TransitGatewayRouteTable)>,
    tgw_props: Vec<(Loc, usize, raw::TgwPropagations)>,
    tgw_routes: Vec<(Loc, usize, raw::TgwRoutes)>,
    prefix_lists: Vec<(Loc, usize, raw::PrefixList)>,
    endpoints: Vec<(Loc, usize, raw::VpcEndpoint)>,
    vgws: Vec<(Loc, usize, raw::VpnGateway)>,
    vpns: Vec<(Loc, usize, raw::VpnConnection)>,
    lbs: Vec<(Loc, usize, raw::LoadBalancer)>,
    lb_listeners: Vec<(Loc, usize, raw::LbListeners)>,
    listeners: Vec<(Loc, usize, raw::Listener)>,
    target_groups: Vec<(Loc, usize, raw::TargetGroup)>,
    target_health: Vec<(Loc, usize, raw::LbTargetHealth)>,
    lb_attributes: Vec<(Loc, usize, raw::LbAttributes)>,
    ip_ranges: Vec<raw::IpRangePrefix>,
}

/// Collects documents, then links them into a snapshot.
#[derive(Default)]
pub(crate) struct Loader {
    raw: Raw,
    files: Vec<PathBuf>,
    problems: Vec<Problem>,
}

fn problem(sev: Severity, file: Option<&Path>, ids: Vec<String>, message: String) -> Problem {
    Problem {
        severity: sev,
        file: file.map(Path::to_path_buf),
        line: None,
        column: None,
        ids,
        message,
    }
}

/// Account and region from a file's path relative to the snapshot root:
/// `[aws_configs/][accounts/<acct>/]<region>/<file>` (Batfish) or `<acct>/<region>/<file>`
/// (CloudMapper).
pub(crate) fn loc_from_path(rel: &Path) -> Loc {
    let dirs: Vec<String> = rel
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut account = None;
    let mut region = None;
    let mut region_pos = None;
    for (i, d) in dirs.iter().enumerate() {
        if d == "accounts"
            && let Some(a) = dirs.get(i + 1)
        {
            account = Some(a.clone());
        }
        if is_region(d) {
            region = Some(d.clone());
            region_pos = Some(i);
        }
    }
    if account.is_none()
        && let Some(p) = region_pos.filter(|&p| p > 0)
    {
        let parent = &dirs[p - 1];
        if parent != "aws_configs" && parent != "accounts" {
            account = Some(parent.clone());
        }
    }
    Loc {
        account: account.unwrap_or_else(|| DEFAULT_ACCOUNT.to_string()),
        region: region.unwrap_or_else(|| DEFAULT_REGION.to_string()),
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-3`, …
pub(crate) fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() < 3 || parts.len() > 4 {
        return false;
    }
    let last = parts[parts.len() - 1];
    parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>, problems: &mut Vec<Problem>, depth: usize) {
    if depth > 32 {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(problem(
                Severity::Error,
                Some(dir),
                vec![],
                format!("cannot read directory: {e}"),
            ));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            json_files(&p, out, problems, depth + 1);
        } else if name.to_ascii_lowercase().ends_with(".json") {
            out.push(p);
        }
    }
}

impl Loader {
    /// Load every `*.json` file under `root` (or just `files`, relative to `root`).
    pub(crate) fn load_dir(root: &Path, files: Option<&[PathBuf]>) -> (Snapshot, Vec<Problem>) {
        let mut l = Loader::default();
        if !root.is_dir() {
            l.problems.push(problem(
                Severity::Error,
                Some(root),
                vec![],
                "not a directory".into(),
            ));
            return (Snapshot::default(), l.problems);
        }
        let mut paths = Vec::new();
        match files {
            Some(fs) => paths.extend(fs.iter().map(|f| root.join(f))),
            None => json_files(root, &mut paths, &mut l.problems, 0),
        }
        for p in paths {
            let rel = p.strip_prefix(root).unwrap_or(&p).to_path_buf();
            match std::fs::read_to_string(&p) {
                Ok(text) => l.add_text(&rel, &text),
                Err(e) => l.problems.push(problem(
                    Severity::Error,
                    Some(&rel),
                    vec![],
                    format!("cannot read: {e}"),
                )),
            }
        }
        l.finish()
    }

    /// Add one document; `rel` decides account and region and names the file in problems.
    pub(crate) fn add_text(&mut self, rel: &Path, text: &str) {
        if self.add_text_fast(rel, text) {
            return;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(v) => self.add_value(rel, loc_from_path(rel), &v),
            Err(e) => self.problems.push(Problem {
                severity: Severity::Error,
                file: Some(rel.to_path_buf()),
                line: Some(e.line()),
                column: Some(e.column()),
                ids: vec![],
                message: format!("malformed JSON: {e}"),
            }),
        }
    }

    pub(crate) fn add_value(&mut self, rel: &Path, loc: Loc, v: &Value) {
        let Some(obj) = v.as_object() else {
            self.problems.push(problem(
                Severity::Error,
                Some(rel),
                vec![],
                "expected a JSON object with describe-* keys at the top level".into(),
            ));
            return;
        };
        let f = self.files.len();
        self.files.push(rel.to_path_buf());
        for (key, value) in obj {
            macro_rules! take {
                ($field:ident) => {{
                    let items = self.items(value, key, rel);
                    self.raw
                        .$field
                        .extend(items.into_iter().map(|it| (loc.clone(), f, it)));
                }};
            }
            match key.as_str() {
                "Vpcs" => take!(vpcs),
                "Subnets" => take!(subnets),
                "RouteTables" => take!(route_tables),
                "SecurityGroups" => take!(sgs),
                "NetworkAcls" => take!(nacls),
                "NetworkInterfaces" => take!(enis),
                "Reservations" => take!(reservations),
                "Addresses" => take!(addresses),
                "InternetGateways" => take!(igws),
                "EgressOnlyInternetGateways" => take!(eigws),
                "NatGateways" => take!(nats),
                "VpcPeeringConnections" => take!(pcxs),
                "TransitGateways" => take!(tgws),
                "TransitGatewayAttachments" => take!(tgw_atts),
                "TransitGatewayVpcAttachments" => take!(tgw_vpc_atts),
                "TransitGatewayRouteTables" => take!(tgw_rtbs),
                "TransitGatewayPropagations" => take!(tgw_props),
                "TransitGatewayStaticRoutes" | "TransitGatewayRoutes" => take!(tgw_routes),
                "PrefixLists" | "ManagedPrefixLists" => take!(prefix_lists),
                "VpcEndpoints" => take!(endpoints),
                "VpnGateways" => take!(vgws),
                "VpnConnections" => take!(vpns),
                "LoadBalancers" => take!(lbs),
                "LoadBalancerListeners" => take!(lb_listeners),
                "Listeners" => take!(listeners),
                "TargetGroups" => take!(target_groups),
                "LoadBalancerTargetHealth" => take!(target_health),
                "LoadBalancerAttributes" => take!(lb_attributes),
                "prefixes" | "ipv6_prefixes" => {
                    let items: Vec<raw::IpRangePrefix> = self.items(value, key, rel);
                    self.raw.ip_ranges.extend(items);
                }
                k if METADATA.contains(&k) => {}
                k if NOT_MODELLED.contains(&k) => self.problems.push(problem(
                    Severity::Note,
                    Some(rel),
                    vec![],
                    format!("{k}: recognised but not modelled, skipped"),
                )),
                k => self.problems.push(problem(
                    Severity::Note,
                    Some(rel),
                    vec![],
                    format!("unknown top-level key {k:?}, skipped"),
                )),
            }
        }
    }

    /// Deserialise each element of a list on its own, so one bad item costs only itself.
    fn items<T: for<'de> Deserialize<'de>>(&mut self, v: &Value, key: &str, rel: &Path) -> Vec<T> {
        let Some(arr) = v.as_array() else {
            if !v.is_null() {
                self.problems.push(problem(
                    Severity::Error,
                    Some(rel),
                    vec![],
                    format!("{key}: expected a list"),
                ));
            }
            return Vec::new();
        };
        let mut out = Vec::with_capacity(arr.len());
        for (i, it) in arr.iter().enumerate() {
            match T::deserialize(it) {
                Ok(t) => out.push(t),
                Err(e) => {
                    let id = it
                        .as_object()
                        .and_then(|o| {
                            o.iter()
                                .find(|(k, _)| k.ends_with("Id"))
                                .and_then(|(_, v)| v.as_str())
                        })
                        .map(str::to_string);
                    self.problems.push(problem(
                        Severity::Error,
                        Some(rel),
                        id.into_iter().collect(),
                        format!("{key}[{i}]: {e}; item skipped"),
                    ));
                }
            }
        }
        out
    }

    fn file(&self, f: usize) -> Option<&Path> {
        self.files.get(f).map(PathBuf::as_path)
    }

    fn warn(&mut self, f: usize, ids: Vec<String>, message: String) {
        let p = problem(Severity::Warning, self.file(f), ids, message);
        self.problems.push(p);
    }

    fn note(&mut self, f: usize, ids: Vec<String>, message: String) {
        let p = problem(Severity::Note, self.file(f), ids, message);
        self.problems.push(p);
    }

    fn cidr(&mut self, f: usize, id: &str, s: &str) -> Option<Cidr> {
        let c = Cidr::parse(s);
        if c.is_none() {
            self.warn(
                f,
                vec![id.to_string()],
                format!("invalid CIDR {s:?}, ignored"),
            );
        }
        c
    }

    /// Link everything collected so far, phase by phase (the order matters: later phases use
    /// the ids and indexes of earlier ones).
    pub(crate) fn finish(mut self) -> (Snapshot, Vec<Problem>) {
        let raw = std::mem::take(&mut self.raw);
        let mut k = Link::default();
        self.link_network(&raw, &mut k);
        self.link_enis(&raw, &mut k);
        self.link_gateways(&raw, &mut k);
        self.link_elastic_ips(&raw, &mut k);
        self.link_peerings(&raw, &mut k);
        self.link_tgws(&raw, &mut k);
        self.link_endpoints_vpn(&raw, &mut k);
        self.link_load_balancers(&raw, &mut k);
        self.link_indexes(&raw, &mut k);
        self.link_tgw_propagations(&raw, &mut k);
        self.link_address_space(&raw, &mut k);
        (k.s, self.problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_account_and_region() {
        let l = loc_from_path(Path::new("aws_configs/accounts/111/us-west-1/Vpcs.json"));
        assert_eq!(
            (l.account.as_str(), l.region.as_str()),
            ("111", "us-west-1")
        );
        let l = loc_from_path(Path::new("aws_configs/us-east-1/Vpcs.json"));
        assert_eq!(
            (l.account.as_str(), l.region.as_str()),
            ("default", "us-east-1")
        );
        let l = loc_from_path(Path::new("aws_configs/Vpcs.json"));
        assert_eq!(
            (l.account.as_str(), l.region.as_str()),
            ("default", "us-west-2")
        );
        let l = loc_from_path(Path::new("demo/us-east-1/ec2-describe-vpcs.json"));
        assert_eq!(
            (l.account.as_str(), l.region.as_str()),
            ("demo", "us-east-1")
        );
        assert!(
            is_region("us-gov-west-1") && is_region("ap-southeast-3") && !is_region("aws_configs")
        );
    }
}
