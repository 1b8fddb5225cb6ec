//! Snapshot loading: walk a directory of `describe-*` JSON outputs, recognise each file by
//! its top-level keys, and link the resources into a [`Snapshot`]. Never fails as a whole and
//! never panics: unreadable files, malformed JSON (with line and column), items of the wrong
//! shape, unknown keys and dangling references all become [`Problem`]s.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Problem, Severity};
use crate::ip::{Addr, Cidr, coarse_aws_prefixes};
use crate::model::*;
use crate::raw;

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
    "LoadBalancerAttributes",
    "LoadBalancerDescriptions",
    "LoadBalancerListeners",
    "LoadBalancerTargetHealth",
    "LoadBalancers",
    "Listeners",
    "PlacementGroups",
    "Regions",
    "ServiceDetails",
    "ServiceNames",
    "Tags",
    "TargetGroups",
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

    /// Link everything collected so far.
    pub(crate) fn finish(mut self) -> (Snapshot, Vec<Problem>) {
        let raw = std::mem::take(&mut self.raw);
        let mut s = Snapshot::default();
        let mut seen: HashSet<String> = HashSet::new();
        let mut file_of: HashMap<String, usize> = HashMap::new();

        macro_rules! fresh {
            ($id:expr, $f:expr, $what:literal) => {{
                match $id {
                    Some(id) if !id.is_empty() => {
                        if seen.insert(id.clone()) {
                            file_of.insert(id.clone(), $f);
                            Some(id.clone())
                        } else {
                            None
                        }
                    }
                    _ => {
                        self.warn($f, vec![], format!("{} without an id, skipped", $what));
                        None
                    }
                }
            }};
        }

        // Prefix lists first: routes and rules expand them.
        let mut pl_index: BTreeMap<String, usize> = BTreeMap::new();
        for (_, f, p) in &raw.prefix_lists {
            let Some(id) = p.PrefixListId.clone() else {
                self.warn(*f, vec![], "prefix list without an id, skipped".into());
                continue;
            };
            let mut cidrs = Vec::new();
            for c in p
                .Cidrs
                .iter()
                .map(String::as_str)
                .chain(p.Entries.iter().filter_map(|e| e.Cidr.as_deref()))
            {
                if let Some(c) = self.cidr(*f, &id, c) {
                    cidrs.push(c);
                }
            }
            if cidrs.is_empty() {
                self.note(
                    *f,
                    vec![id.clone()],
                    "prefix list without entries (add get-managed-prefix-list-entries as Entries)"
                        .into(),
                );
            }
            match pl_index.get(&id) {
                Some(&i) => {
                    let pl: &mut PrefixList = &mut s.prefix_lists[i];
                    for c in cidrs {
                        if !pl.cidrs.contains(&c) {
                            pl.cidrs.push(c);
                        }
                    }
                }
                None => {
                    pl_index.insert(id.clone(), s.prefix_lists.len());
                    file_of.insert(id.clone(), *f);
                    s.prefix_lists.push(PrefixList {
                        id,
                        name: p.PrefixListName.clone().unwrap_or_default(),
                        cidrs,
                    });
                }
            }
        }

        for (loc, f, v) in &raw.vpcs {
            let Some(id) = fresh!(v.VpcId.as_ref(), *f, "VPC") else {
                continue;
            };
            let mut cidrs = Vec::new();
            for a in &v.CidrBlockAssociationSet {
                let state = a
                    .CidrBlockState
                    .as_ref()
                    .and_then(|s| s.State.as_deref())
                    .unwrap_or("associated");
                if state == "associated"
                    && let Some(c) = a.CidrBlock.as_deref().and_then(|c| self.cidr(*f, &id, c))
                {
                    cidrs.push(c);
                }
            }
            if cidrs.is_empty()
                && let Some(c) = v.CidrBlock.as_deref().and_then(|c| self.cidr(*f, &id, c))
            {
                cidrs.push(c);
            }
            for a in &v.Ipv6CidrBlockAssociationSet {
                let state = a
                    .Ipv6CidrBlockState
                    .as_ref()
                    .and_then(|s| s.State.as_deref())
                    .unwrap_or("associated");
                if state == "associated"
                    && let Some(c) = a
                        .Ipv6CidrBlock
                        .as_deref()
                        .and_then(|c| self.cidr(*f, &id, c))
                {
                    cidrs.push(c);
                }
            }
            s.vpcs.push(Vpc {
                id,
                loc: loc.clone(),
                cidrs,
                subnets: vec![],
                main_route_table: None,
                default_nacl: None,
                internet_gateways: vec![],
                egress_only_gateways: vec![],
                vpn_gateways: vec![],
            });
        }

        for (loc, f, v) in &raw.subnets {
            let Some(id) = fresh!(v.SubnetId.as_ref(), *f, "subnet") else {
                continue;
            };
            let mut cidrs = Vec::new();
            if let Some(c) = v.CidrBlock.as_deref().and_then(|c| self.cidr(*f, &id, c)) {
                cidrs.push(c);
            }
            for a in &v.Ipv6CidrBlockAssociationSet {
                if let Some(c) = a
                    .Ipv6CidrBlock
                    .as_deref()
                    .and_then(|c| self.cidr(*f, &id, c))
                {
                    cidrs.push(c);
                }
            }
            s.subnets.push(Subnet {
                id,
                loc: loc.clone(),
                vpc_id: v.VpcId.clone().unwrap_or_default(),
                vpc: None,
                cidrs,
                availability_zone: v.AvailabilityZone.clone().unwrap_or_default(),
                route_table: None,
                explicit_route_table: false,
                nacl: None,
                enis: vec![],
            });
        }

        for (loc, f, rt) in &raw.route_tables {
            let Some(id) = fresh!(rt.RouteTableId.as_ref(), *f, "route table") else {
                continue;
            };
            let mut routes = Vec::new();
            for r in &rt.Routes {
                if let Some(route) = self.route(*f, &id, r, &s.prefix_lists, &pl_index) {
                    routes.push(route);
                }
            }
            let main = rt.Associations.iter().any(|a| a.Main == Some(true));
            s.route_tables.push(RouteTable {
                id,
                loc: loc.clone(),
                vpc_id: rt.VpcId.clone().unwrap_or_default(),
                main,
                routes,
                subnet_ids: rt
                    .Associations
                    .iter()
                    .filter_map(|a| a.SubnetId.clone())
                    .collect(),
                gateway_ids: rt
                    .Associations
                    .iter()
                    .filter_map(|a| a.GatewayId.clone())
                    .collect(),
            });
        }

        for (loc, f, g) in &raw.sgs {
            let Some(id) = fresh!(g.GroupId.as_ref(), *f, "security group") else {
                continue;
            };
            let ingress = self.sg_rules(*f, &id, &g.IpPermissions);
            let egress = self.sg_rules(*f, &id, &g.IpPermissionsEgress);
            s.security_groups.push(SecurityGroup {
                id,
                name: g.GroupName.clone().unwrap_or_default(),
                loc: loc.clone(),
                vpc_id: g.VpcId.clone().unwrap_or_default(),
                ingress,
                egress,
                members: vec![],
            });
        }

        for (loc, f, n) in &raw.nacls {
            let Some(id) = fresh!(n.NetworkAclId.as_ref(), *f, "network ACL") else {
                continue;
            };
            let (mut ingress, mut egress) = (Vec::new(), Vec::new());
            for e in &n.Entries {
                if let Some(entry) = self.acl_entry(*f, &id, e) {
                    if e.Egress == Some(true) {
                        egress.push(entry);
                    } else {
                        ingress.push(entry);
                    }
                }
            }
            ingress.sort_by_key(|e: &NaclEntry| e.rule_number);
            egress.sort_by_key(|e: &NaclEntry| e.rule_number);
            s.nacls.push(Nacl {
                id,
                loc: loc.clone(),
                vpc_id: n.VpcId.clone().unwrap_or_default(),
                is_default: n.IsDefault == Some(true),
                ingress,
                egress,
                subnet_ids: n
                    .Associations
                    .iter()
                    .filter_map(|a| a.SubnetId.clone())
                    .collect(),
            });
        }

        // ENIs: describe-network-interfaces first, then those only listed under instances.
        let mut eni_src: Vec<EniSource> = Vec::new();
        for (loc, f, e) in &raw.enis {
            eni_src.push((loc.clone(), *f, e.clone(), None));
        }
        for (loc, f, r) in &raw.reservations {
            for inst in &r.Instances {
                let Some(iid) = inst.InstanceId.clone() else {
                    self.warn(*f, vec![], "instance without an id, skipped".into());
                    continue;
                };
                let running = inst
                    .State
                    .as_ref()
                    .and_then(|s| s.Name.as_deref())
                    .is_none_or(|n| n == "running");
                let listed = raw.enis.iter().any(|(_, _, e)| {
                    e.Attachment.as_ref().and_then(|a| a.InstanceId.as_deref())
                        == Some(iid.as_str())
                });
                if inst.NetworkInterfaces.is_empty() && !listed && inst.PrivateIpAddress.is_some() {
                    // Older outputs: synthesise the primary interface from the instance.
                    let e = raw::NetworkInterface {
                        NetworkInterfaceId: Some(format!("{iid}-eni")),
                        SubnetId: inst.SubnetId.clone(),
                        VpcId: inst.VpcId.clone(),
                        PrivateIpAddress: inst.PrivateIpAddress.clone(),
                        Association: inst.PublicIpAddress.clone().map(|p| raw::PublicAssoc {
                            PublicIp: Some(p),
                            ..Default::default()
                        }),
                        Groups: inst.SecurityGroups.clone(),
                        SourceDestCheck: inst.SourceDestCheck,
                        InterfaceType: Some("interface".into()),
                        ..Default::default()
                    };
                    eni_src.push((loc.clone(), *f, e, Some((iid.clone(), running))));
                }
                for e in &inst.NetworkInterfaces {
                    let mut e = e.clone();
                    if e.SubnetId.is_none() {
                        e.SubnetId = inst.SubnetId.clone();
                    }
                    if e.VpcId.is_none() {
                        e.VpcId = inst.VpcId.clone();
                    }
                    eni_src.push((loc.clone(), *f, e, Some((iid.clone(), running))));
                }
            }
        }
        let mut instance_state: HashMap<String, bool> = HashMap::new();
        for (_, _, r) in &raw.reservations {
            for inst in &r.Instances {
                if let Some(iid) = &inst.InstanceId {
                    let running = inst
                        .State
                        .as_ref()
                        .and_then(|s| s.Name.as_deref())
                        .is_none_or(|n| n == "running");
                    instance_state.insert(iid.clone(), running);
                }
            }
        }
        let mut eni_pos: HashMap<String, usize> = HashMap::new();
        for (loc, f, e, inst) in eni_src {
            let Some(id) = e.NetworkInterfaceId.clone() else {
                self.warn(f, vec![], "network interface without an id, skipped".into());
                continue;
            };
            if let Some(&i) = eni_pos.get(&id) {
                // Seen in describe-network-interfaces already; fill the instance if missing.
                if let (Some((iid, _)), EniOwner::Other) = (&inst, &s.enis[i].owner) {
                    s.enis[i].owner = EniOwner::Instance(iid.clone());
                }
                continue;
            }
            if !seen.insert(id.clone()) {
                continue;
            }
            file_of.insert(id.clone(), f);
            let mut private_ips = Vec::new();
            let mut public_ips = Vec::new();
            let mut pips: Vec<&raw::PrivateIp> = e.PrivateIpAddresses.iter().collect();
            pips.sort_by_key(|p| p.Primary != Some(true));
            for p in pips {
                if let Some(a) = p.PrivateIpAddress.as_deref().and_then(Addr::parse) {
                    if !private_ips.contains(&a) {
                        private_ips.push(a);
                    }
                    if let Some(pub_ip) = p
                        .Association
                        .as_ref()
                        .and_then(|x| x.PublicIp.as_deref())
                        .and_then(Addr::parse)
                    {
                        public_ips.push((a, pub_ip));
                    }
                }
            }
            if let Some(a) = e.PrivateIpAddress.as_deref().and_then(Addr::parse) {
                if !private_ips.contains(&a) {
                    private_ips.insert(0, a);
                }
                if public_ips.is_empty()
                    && let Some(pub_ip) = e
                        .Association
                        .as_ref()
                        .and_then(|x| x.PublicIp.as_deref())
                        .and_then(Addr::parse)
                {
                    public_ips.push((a, pub_ip));
                }
            }
            for a in e
                .Ipv6Addresses
                .iter()
                .filter_map(|a| a.Ipv6Address.as_deref())
                .filter_map(Addr::parse)
            {
                private_ips.push(a);
            }
            let desc = e.Description.clone().unwrap_or_default();
            let itype = e
                .InterfaceType
                .clone()
                .unwrap_or_else(|| "interface".into());
            let owner = if let Some(iid) = e.Attachment.as_ref().and_then(|a| a.InstanceId.clone())
            {
                EniOwner::Instance(iid)
            } else if let Some((iid, _)) = &inst {
                EniOwner::Instance(iid.clone())
            } else if let Some(nat) = desc.strip_prefix("Interface for NAT Gateway ") {
                EniOwner::NatGateway(nat.trim().to_string())
            } else if let Some(vpce) = desc.strip_prefix("VPC Endpoint Interface ") {
                EniOwner::VpcEndpoint(vpce.trim().to_string())
            } else {
                EniOwner::Other
            };
            eni_pos.insert(id.clone(), s.enis.len());
            s.enis.push(Eni {
                id,
                loc,
                interface_type: itype,
                subnet_id: e.SubnetId.clone().unwrap_or_default(),
                subnet: None,
                vpc_id: e.VpcId.clone().unwrap_or_default(),
                availability_zone: e.AvailabilityZone.clone().unwrap_or_default(),
                private_ips,
                public_ips,
                group_ids: e.Groups.iter().filter_map(|g| g.GroupId.clone()).collect(),
                groups: vec![],
                owner,
                source_dest_check: e.SourceDestCheck.unwrap_or(true),
                active: true,
            });
        }

        for (loc, f, r) in &raw.reservations {
            for inst in &r.Instances {
                let Some(iid) = inst.InstanceId.clone() else {
                    continue;
                };
                if !seen.insert(iid.clone()) {
                    continue;
                }
                file_of.insert(iid.clone(), *f);
                let mut enis: Vec<(i64, EniIdx)> = Vec::new();
                for (i, e) in s.enis.iter().enumerate() {
                    if e.owner == EniOwner::Instance(iid.clone()) {
                        let dev = inst
                            .NetworkInterfaces
                            .iter()
                            .find(|n| n.NetworkInterfaceId.as_deref() == Some(e.id.as_str()))
                            .and_then(|n| n.Attachment.as_ref().and_then(|a| a.DeviceIndex))
                            .unwrap_or(if e.id.ends_with("-eni") { 0 } else { 99 });
                        enis.push((dev, ix(i)));
                    }
                }
                enis.sort();
                let state = inst
                    .State
                    .as_ref()
                    .and_then(|s| s.Name.clone())
                    .unwrap_or_else(|| "running".into());
                s.instances.push(Instance {
                    id: iid,
                    loc: loc.clone(),
                    state,
                    subnet_id: inst.SubnetId.clone().unwrap_or_default(),
                    enis: enis.into_iter().map(|(_, e)| e).collect(),
                });
            }
        }
        // Instances known only from their ENIs' attachments (no describe-instances output).
        let mut orphans: BTreeMap<String, Vec<(i64, EniIdx)>> = BTreeMap::new();
        for (i, e) in s.enis.iter().enumerate() {
            if let EniOwner::Instance(iid) = &e.owner
                && !seen.contains(iid)
            {
                orphans
                    .entry(iid.clone())
                    .or_default()
                    .push((i64::try_from(i).unwrap_or(i64::MAX), ix(i)));
            }
        }
        for (iid, enis) in orphans {
            seen.insert(iid.clone());
            let first = enis[0].1;
            let (loc, subnet_id) = (
                s.enis[first.get()].loc.clone(),
                s.enis[first.get()].subnet_id.clone(),
            );
            s.instances.push(Instance {
                id: iid,
                loc,
                state: "running".into(),
                subnet_id,
                enis: enis.into_iter().map(|(_, e)| e).collect(),
            });
        }
        for e in &mut s.enis {
            if let EniOwner::Instance(iid) = &e.owner
                && instance_state.get(iid) == Some(&false)
            {
                e.active = false;
            }
        }

        for (loc, f, g) in &raw.igws {
            let Some(id) = fresh!(g.InternetGatewayId.as_ref(), *f, "internet gateway") else {
                continue;
            };
            let vpc_ids = attached(&g.Attachments);
            s.internet_gateways.push(Gateway {
                id,
                loc: loc.clone(),
                vpc_ids,
            });
        }
        for (loc, f, g) in &raw.eigws {
            let Some(id) = fresh!(
                g.EgressOnlyInternetGatewayId.as_ref(),
                *f,
                "egress-only internet gateway"
            ) else {
                continue;
            };
            let vpc_ids = attached(&g.Attachments);
            s.egress_only_gateways.push(Gateway {
                id,
                loc: loc.clone(),
                vpc_ids,
            });
        }

        for (loc, f, n) in &raw.nats {
            let Some(id) = fresh!(n.NatGatewayId.as_ref(), *f, "NAT gateway") else {
                continue;
            };
            let addr = n.NatGatewayAddresses.first();
            let private_ip = addr
                .and_then(|a| a.PrivateIp.as_deref())
                .and_then(Addr::parse);
            let public_ip = addr
                .and_then(|a| a.PublicIp.as_deref())
                .and_then(Addr::parse);
            let available = n.State.as_deref().is_none_or(|st| st == "available");
            if !available {
                self.note(
                    *f,
                    vec![id.clone()],
                    format!(
                        "NAT gateway in state {:?}",
                        n.State.as_deref().unwrap_or("")
                    ),
                );
            }
            // Its ENI: listed in describe-network-interfaces, or synthesised here.
            let eni_id = addr
                .and_then(|a| a.NetworkInterfaceId.clone())
                .unwrap_or_else(|| format!("{id}-eni"));
            let eni = match eni_pos.get(&eni_id) {
                Some(&i) => {
                    s.enis[i].owner = EniOwner::NatGateway(id.clone());
                    Some(i)
                }
                None if private_ip.is_some() => {
                    seen.insert(eni_id.clone());
                    eni_pos.insert(eni_id.clone(), s.enis.len());
                    s.enis.push(Eni {
                        id: eni_id,
                        loc: loc.clone(),
                        interface_type: "nat_gateway".into(),
                        subnet_id: n.SubnetId.clone().unwrap_or_default(),
                        subnet: None,
                        vpc_id: n.VpcId.clone().unwrap_or_default(),
                        availability_zone: String::new(),
                        private_ips: private_ip.into_iter().collect(),
                        public_ips: private_ip.zip(public_ip).into_iter().collect(),
                        group_ids: vec![],
                        groups: vec![],
                        owner: EniOwner::NatGateway(id.clone()),
                        source_dest_check: false,
                        active: true,
                    });
                    Some(s.enis.len() - 1)
                }
                None => None,
            };
            if let (Some(i), Some(p), Some(q)) = (eni, private_ip, public_ip)
                && !s.enis[i].public_ips.contains(&(p, q))
            {
                s.enis[i].public_ips.push((p, q));
            }
            s.nat_gateways.push(NatGateway {
                id,
                loc: loc.clone(),
                subnet_id: n.SubnetId.clone().unwrap_or_default(),
                subnet: None,
                vpc_id: n.VpcId.clone().unwrap_or_default(),
                available,
                public: n.ConnectivityType.as_deref() != Some("private"),
                private_ip,
                public_ip,
                eni: eni.map(ix),
            });
        }

        // Elastic IPs: add the public address to the ENI's private address.
        for (_, f, a) in &raw.addresses {
            let (Some(public), Some(eni_id)) = (
                a.PublicIp.as_deref().and_then(Addr::parse),
                a.NetworkInterfaceId.as_ref(),
            ) else {
                continue;
            };
            let Some(&i) = eni_pos.get(eni_id) else {
                self.warn(
                    *f,
                    vec![a.AllocationId.clone().unwrap_or_default(), eni_id.clone()],
                    "elastic IP associated with an unknown network interface".into(),
                );
                continue;
            };
            let private = a
                .PrivateIpAddress
                .as_deref()
                .and_then(Addr::parse)
                .or_else(|| s.enis[i].primary_ip());
            if let Some(p) = private
                && !s.enis[i].public_ips.iter().any(|(x, _)| *x == p)
            {
                s.enis[i].public_ips.push((p, public));
            }
        }

        for (loc, f, p) in &raw.pcxs {
            let Some(id) = p.VpcPeeringConnectionId.clone() else {
                self.warn(
                    *f,
                    vec![],
                    "peering connection without an id, skipped".into(),
                );
                continue;
            };
            // Cross-region and cross-account peerings appear on both sides: keep one.
            if !seen.insert(id.clone()) {
                continue;
            }
            file_of.insert(id.clone(), *f);
            let status = p
                .Status
                .as_ref()
                .and_then(|s| s.Code.clone())
                .unwrap_or_default();
            let side = |v: &Option<raw::PeeringVpcInfo>| -> PeeringSide {
                let v = v.clone().unwrap_or_default();
                let mut cidrs: Vec<Cidr> = v
                    .CidrBlockSet
                    .iter()
                    .filter_map(|c| c.CidrBlock.as_deref().and_then(Cidr::parse))
                    .chain(
                        v.Ipv6CidrBlockSet
                            .iter()
                            .filter_map(|c| c.Ipv6CidrBlock.as_deref().and_then(Cidr::parse)),
                    )
                    .collect();
                if cidrs.is_empty() {
                    cidrs.extend(v.CidrBlock.as_deref().and_then(Cidr::parse));
                }
                PeeringSide {
                    vpc_id: v.VpcId.unwrap_or_default(),
                    owner: v.OwnerId.unwrap_or_default(),
                    region: v.Region.unwrap_or_default(),
                    cidrs,
                }
            };
            let active = status == "active";
            if !active {
                self.note(
                    *f,
                    vec![id.clone()],
                    format!(
                        "peering connection in state {status:?}: routes through it are not followed"
                    ),
                );
            }
            s.peerings.push(Peering {
                id,
                loc: loc.clone(),
                active,
                status,
                requester: side(&p.RequesterVpcInfo),
                accepter: side(&p.AccepterVpcInfo),
            });
        }

        for (loc, f, t) in &raw.tgws {
            let Some(id) = fresh!(t.TransitGatewayId.as_ref(), *f, "transit gateway") else {
                continue;
            };
            s.transit_gateways.push(TransitGateway {
                id,
                loc: loc.clone(),
                available: t.State.as_deref().is_none_or(|st| st == "available"),
                asn: t.Options.as_ref().and_then(|o| o.AmazonSideAsn),
            });
        }

        // TGW attachments are keyed by (TGW, attachment): a peering attachment has the same id
        // on both TGWs, each with its own association; accounts sharing a TGW list it twice.
        let mut atts: BTreeMap<(String, String), TgwAttachment> = BTreeMap::new();
        for (_, f, a) in &raw.tgw_atts {
            let (Some(id), Some(tgw)) = (
                a.TransitGatewayAttachmentId.clone(),
                a.TransitGatewayId.clone(),
            ) else {
                self.warn(
                    *f,
                    vec![],
                    "transit gateway attachment without ids, skipped".into(),
                );
                continue;
            };
            file_of.entry(id.clone()).or_insert(*f);
            let e = atts
                .entry((tgw.clone(), id.clone()))
                .or_insert_with(|| TgwAttachment {
                    id: id.clone(),
                    tgw_id: tgw.clone(),
                    resource_type: String::new(),
                    resource_id: String::new(),
                    available: true,
                    route_table: None,
                    subnet_ids: vec![],
                    appliance_mode: false,
                });
            if let Some(t) = &a.ResourceType {
                e.resource_type = t.clone();
            }
            if let Some(r) = &a.ResourceId {
                e.resource_id = r.clone();
            }
            e.available &= a.State.as_deref().is_none_or(|st| st == "available");
            if let Some(assoc) = &a.Association
                && assoc.State.as_deref().is_none_or(|st| st == "associated")
            {
                e.route_table = e
                    .route_table
                    .take()
                    .or_else(|| assoc.TransitGatewayRouteTableId.clone());
            }
        }
        for (_, f, a) in &raw.tgw_vpc_atts {
            let (Some(id), Some(tgw)) = (
                a.TransitGatewayAttachmentId.clone(),
                a.TransitGatewayId.clone(),
            ) else {
                self.warn(
                    *f,
                    vec![],
                    "transit gateway VPC attachment without ids, skipped".into(),
                );
                continue;
            };
            file_of.entry(id.clone()).or_insert(*f);
            let e = atts
                .entry((tgw.clone(), id.clone()))
                .or_insert_with(|| TgwAttachment {
                    id: id.clone(),
                    tgw_id: tgw.clone(),
                    resource_type: "vpc".into(),
                    resource_id: a.VpcId.clone().unwrap_or_default(),
                    available: true,
                    route_table: None,
                    subnet_ids: vec![],
                    appliance_mode: false,
                });
            if e.resource_type.is_empty() {
                e.resource_type = "vpc".into();
            }
            if e.resource_id.is_empty() {
                e.resource_id = a.VpcId.clone().unwrap_or_default();
            }
            e.available &= a.State.as_deref().is_none_or(|st| st == "available");
            for sid in &a.SubnetIds {
                if !e.subnet_ids.contains(sid) {
                    e.subnet_ids.push(sid.clone());
                }
            }
            e.appliance_mode |= a
                .Options
                .as_ref()
                .and_then(|o| o.ApplianceModeSupport.as_deref())
                == Some("enable");
        }
        for (k, a) in atts {
            if !a.available {
                continue;
            }
            s.tgw_att.insert(k, s.tgw_attachments.len());
            s.tgw_attachments.push(a);
        }

        let mut rtb_pos: HashMap<String, usize> = HashMap::new();
        for (loc, f, t) in &raw.tgw_rtbs {
            let Some(id) = fresh!(
                t.TransitGatewayRouteTableId.as_ref(),
                *f,
                "transit gateway route table"
            ) else {
                continue;
            };
            rtb_pos.insert(id.clone(), s.tgw_route_tables.len());
            s.tgw_route_tables.push(TgwRouteTable {
                id,
                tgw_id: t.TransitGatewayId.clone().unwrap_or_default(),
                loc: loc.clone(),
                routes: vec![],
                propagations: vec![],
            });
        }
        for (_, f, r) in &raw.tgw_routes {
            let Some(rid) = r.TransitGatewayRouteTableId.clone() else {
                continue;
            };
            let Some(&i) = rtb_pos.get(&rid) else {
                self.warn(
                    *f,
                    vec![rid],
                    "static routes of an unknown transit gateway route table".into(),
                );
                continue;
            };
            for route in &r.Routes {
                let Some(dest) = route.DestinationCidrBlock.as_deref() else {
                    continue;
                };
                let Some(cidr) = self.cidr(*f, &rid, dest) else {
                    continue;
                };
                let blackhole = route.State.as_deref() == Some("blackhole");
                let attachment = route
                    .TransitGatewayAttachments
                    .first()
                    .and_then(|a| a.TransitGatewayAttachmentId.clone());
                s.tgw_route_tables[i].routes.push(TgwRoute {
                    cidr,
                    attachment: if blackhole { None } else { attachment },
                    propagated: route.Type.as_deref() == Some("propagated"),
                    blackhole,
                });
            }
        }
        let mut props: Vec<(usize, usize, String)> = Vec::new();
        for (_, f, p) in &raw.tgw_props {
            let Some(rid) = p.TransitGatewayRouteTableId.clone() else {
                continue;
            };
            let Some(&i) = rtb_pos.get(&rid) else {
                self.warn(
                    *f,
                    vec![rid],
                    "propagations of an unknown transit gateway route table".into(),
                );
                continue;
            };
            for pr in &p.TransitGatewayRouteTablePropagations {
                if pr.State.as_deref().is_none_or(|st| st == "enabled")
                    && let Some(a) = &pr.TransitGatewayAttachmentId
                {
                    props.push((*f, i, a.clone()));
                }
            }
        }

        for (loc, f, e) in &raw.endpoints {
            let Some(id) = fresh!(e.VpcEndpointId.as_ref(), *f, "VPC endpoint") else {
                continue;
            };
            s.vpc_endpoints.push(VpcEndpoint {
                id,
                loc: loc.clone(),
                endpoint_type: e
                    .VpcEndpointType
                    .clone()
                    .unwrap_or_else(|| "Gateway".into()),
                vpc_id: e.VpcId.clone().unwrap_or_default(),
                service_name: e.ServiceName.clone().unwrap_or_default(),
                available: e
                    .State
                    .as_deref()
                    .is_none_or(|st| st.eq_ignore_ascii_case("available")),
                route_table_ids: e.RouteTableIds.clone(),
                subnet_ids: e.SubnetIds.clone(),
                eni_ids: e.NetworkInterfaceIds.clone(),
            });
        }
        for ep in &s.vpc_endpoints {
            for eni in &ep.eni_ids {
                if let Some(&i) = eni_pos.get(eni) {
                    s.enis[i].owner = EniOwner::VpcEndpoint(ep.id.clone());
                }
            }
        }

        for (loc, f, g) in &raw.vgws {
            let Some(id) = fresh!(g.VpnGatewayId.as_ref(), *f, "VPN gateway") else {
                continue;
            };
            let vpc_ids = attached(&g.VpcAttachments);
            s.vpn_gateways.push(VpnGateway {
                id,
                loc: loc.clone(),
                vpc_ids,
                outside_ips: vec![],
                vpn_routes: vec![],
            });
        }
        for (_, f, v) in &raw.vpns {
            if v.State.as_deref().is_some_and(|st| st != "available") {
                continue;
            }
            let Some(vgw_id) = v.VpnGatewayId.clone() else {
                continue;
            };
            let vpn_id = v.VpnConnectionId.clone().unwrap_or_default();
            let Some(g) = s.vpn_gateways.iter_mut().find(|g| g.id == vgw_id) else {
                self.warn(
                    *f,
                    vec![vpn_id, vgw_id],
                    "VPN connection to an unknown VPN gateway".into(),
                );
                continue;
            };
            let mut ips: Vec<Addr> = v
                .VgwTelemetry
                .iter()
                .filter_map(|t| t.OutsideIpAddress.as_deref())
                .filter_map(Addr::parse)
                .collect();
            if let Some(cfg) = &v.CustomerGatewayConfiguration {
                ips.extend(vgw_outside_ips(cfg));
            }
            for ip in ips {
                if !g.outside_ips.contains(&ip) {
                    g.outside_ips.push(ip);
                }
            }
            for r in &v.Routes {
                if r.State.as_deref().is_none_or(|st| st == "available")
                    && let Some(c) = r.DestinationCidrBlock.as_deref().and_then(Cidr::parse)
                {
                    g.vpn_routes.push((c, vpn_id.clone()));
                }
            }
        }

        // ---- indexes ----
        macro_rules! index {
            ($table:ident, $variant:ident) => {
                for (i, r) in s.$table.iter().enumerate() {
                    s.by_id.insert(r.id.clone(), Resource::$variant(i));
                }
            };
        }
        index!(vpcs, Vpc);
        index!(subnets, Subnet);
        index!(route_tables, RouteTable);
        index!(security_groups, SecurityGroup);
        index!(nacls, Nacl);
        index!(enis, Eni);
        index!(instances, Instance);
        index!(internet_gateways, InternetGateway);
        index!(egress_only_gateways, EgressOnlyInternetGateway);
        index!(nat_gateways, NatGateway);
        index!(peerings, Peering);
        index!(transit_gateways, TransitGateway);
        index!(tgw_route_tables, TgwRouteTable);
        index!(prefix_lists, PrefixList);
        index!(vpc_endpoints, VpcEndpoint);
        index!(vpn_gateways, VpnGateway);
        for (i, a) in s.tgw_attachments.iter().enumerate() {
            s.by_id
                .entry(a.id.clone())
                .or_insert(Resource::TgwAttachment(i));
        }

        // Subnets ↔ VPCs.
        for i in 0..s.subnets.len() {
            let vpc = s.vpc_idx(&s.subnets[i].vpc_id);
            match vpc {
                Some(v) => {
                    s.subnets[i].vpc = Some(v);
                    s.vpcs[v.get()].subnets.push(ix(i));
                }
                None => {
                    let (sid, vid) = (s.subnets[i].id.clone(), s.subnets[i].vpc_id.clone());
                    let f = file_of.get(&sid).copied().unwrap_or(usize::MAX);
                    self.warn(f, vec![sid, vid], "subnet in an unknown VPC".into());
                }
            }
        }
        // Route tables: main per VPC, explicit per subnet, else main.
        for (i, rt) in s.route_tables.iter().enumerate() {
            if rt.main
                && let Some(v) = s.by_id.get(&rt.vpc_id).and_then(|r| {
                    if let Resource::Vpc(v) = r {
                        Some(*v)
                    } else {
                        None
                    }
                })
            {
                s.vpcs[v].main_route_table = Some(ix(i));
            }
        }
        let mut dangling: Vec<(String, Vec<String>, String)> = Vec::new();
        for (i, rt) in s.route_tables.iter().enumerate() {
            for sid in &rt.subnet_ids {
                match s.by_id.get(sid) {
                    Some(Resource::Subnet(si)) => {
                        s.subnets[*si].route_table = Some(ix(i));
                        s.subnets[*si].explicit_route_table = true;
                    }
                    _ => dangling.push((
                        rt.id.clone(),
                        vec![rt.id.clone(), sid.clone()],
                        "route table associated with an unknown subnet".into(),
                    )),
                }
            }
            for r in &rt.routes {
                let (missing, what) = match &r.target {
                    Target::Local | Target::Other(_) | Target::TransitGateway(_) => (false, ""),
                    Target::InternetGateway(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::InternetGateway(_))),
                        "internet gateway",
                    ),
                    Target::EgressOnlyInternetGateway(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::EgressOnlyInternetGateway(_))),
                        "egress-only internet gateway",
                    ),
                    Target::NatGateway(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::NatGateway(_))),
                        "NAT gateway",
                    ),
                    Target::VpcPeeringConnection(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::Peering(_))),
                        "peering connection",
                    ),
                    Target::NetworkInterface(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::Eni(_))),
                        "network interface",
                    ),
                    Target::Instance(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::Instance(_))),
                        "instance",
                    ),
                    Target::VpnGateway(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::VpnGateway(_))),
                        "VPN gateway",
                    ),
                    Target::GatewayEndpoint(t) => (
                        !matches!(s.by_id.get(t), Some(Resource::VpcEndpoint(_))),
                        "VPC endpoint",
                    ),
                };
                if missing && !r.blackhole {
                    dangling.push((
                        rt.id.clone(),
                        vec![rt.id.clone(), r.target.id().to_string()],
                        format!("route {} to a missing {what}", r.destination),
                    ));
                }
            }
        }
        for i in 0..s.subnets.len() {
            if s.subnets[i].route_table.is_none() {
                if let Some(v) = s.subnets[i].vpc {
                    s.subnets[i].route_table = s.vpcs[v.get()].main_route_table;
                }
                if s.subnets[i].route_table.is_none() {
                    let sid = s.subnets[i].id.clone();
                    dangling.push((
                        sid.clone(),
                        vec![sid],
                        "subnet without a route table (explicit or main)".into(),
                    ));
                }
            }
        }
        // NACLs.
        for (i, n) in s.nacls.iter().enumerate() {
            if n.is_default
                && let Some(Resource::Vpc(v)) = s.by_id.get(&n.vpc_id)
            {
                s.vpcs[*v].default_nacl = Some(ix(i));
            }
            for sid in &n.subnet_ids {
                match s.by_id.get(sid) {
                    Some(Resource::Subnet(si)) => s.subnets[*si].nacl = Some(ix(i)),
                    _ => dangling.push((
                        n.id.clone(),
                        vec![n.id.clone(), sid.clone()],
                        "network ACL associated with an unknown subnet".into(),
                    )),
                }
            }
        }
        for i in 0..s.subnets.len() {
            if s.subnets[i].nacl.is_none() {
                if let Some(v) = s.subnets[i].vpc {
                    s.subnets[i].nacl = s.vpcs[v.get()].default_nacl;
                }
                if s.subnets[i].nacl.is_none() && !s.nacls.is_empty() {
                    let sid = s.subnets[i].id.clone();
                    dangling.push((
                        sid.clone(),
                        vec![sid],
                        "subnet without a network ACL: treated as allow-all".into(),
                    ));
                }
            }
        }
        // Gateways on VPCs.
        for g in &s.internet_gateways {
            for v in &g.vpc_ids {
                if let Some(Resource::Vpc(vi)) = s.by_id.get(v) {
                    s.vpcs[*vi].internet_gateways.push(g.id.clone());
                }
            }
        }
        for g in &s.egress_only_gateways {
            for v in &g.vpc_ids {
                if let Some(Resource::Vpc(vi)) = s.by_id.get(v) {
                    s.vpcs[*vi].egress_only_gateways.push(g.id.clone());
                }
            }
        }
        for g in &s.vpn_gateways {
            for v in &g.vpc_ids {
                if let Some(Resource::Vpc(vi)) = s.by_id.get(v) {
                    s.vpcs[*vi].vpn_gateways.push(g.id.clone());
                }
            }
        }
        // ENIs: subnet, groups, address indexes.
        for i in 0..s.enis.len() {
            let sid = s.enis[i].subnet_id.clone();
            match s.by_id.get(&sid) {
                Some(Resource::Subnet(si)) => {
                    let si = *si;
                    s.enis[i].subnet = Some(ix(si));
                    s.subnets[si].enis.push(ix(i));
                    if s.enis[i].vpc_id.is_empty() {
                        s.enis[i].vpc_id = s.subnets[si].vpc_id.clone();
                    }
                    if s.enis[i].availability_zone.is_empty() {
                        s.enis[i].availability_zone = s.subnets[si].availability_zone.clone();
                    }
                }
                _ => {
                    let eid = s.enis[i].id.clone();
                    dangling.push((
                        eid.clone(),
                        vec![eid, sid],
                        "network interface in an unknown subnet".into(),
                    ));
                }
            }
            let mut groups = Vec::new();
            for g in s.enis[i].group_ids.clone() {
                match s.by_id.get(&g) {
                    Some(Resource::SecurityGroup(gi)) => groups.push(ix(*gi)),
                    _ => {
                        let eid = s.enis[i].id.clone();
                        dangling.push((eid.clone(), vec![eid, g], "network interface carries an unknown security group (it allows nothing)".into()));
                    }
                }
            }
            s.enis[i].groups = groups;
            if let Some(Resource::Vpc(v)) = s.by_id.get(&s.enis[i].vpc_id) {
                let v: VpcIdx = ix(*v);
                for a in s.enis[i].private_ips.clone() {
                    s.eni_by_ip.entry((v, a)).or_insert(ix(i));
                    s.eni_by_any_ip.entry(a).or_insert(ix(i));
                }
            }
            if s.enis[i].active {
                for (p, q) in s.enis[i].public_ips.clone() {
                    s.public_ip.entry(q).or_insert((ix(i), p));
                }
            }
            for g in s.enis[i].groups.clone() {
                let ips = s.enis[i].private_ips.clone();
                s.security_groups[g.get()].members.extend(ips);
            }
        }
        for g in &mut s.security_groups {
            g.members.sort();
            g.members.dedup();
        }
        // Security-group rule peers.
        for gi in 0..s.security_groups.len() {
            for egress in [false, true] {
                let n = if egress {
                    s.security_groups[gi].egress.len()
                } else {
                    s.security_groups[gi].ingress.len()
                };
                for ri in 0..n {
                    let peer = {
                        let g = &s.security_groups[gi];
                        if egress {
                            g.egress[ri].peer.clone()
                        } else {
                            g.ingress[ri].peer.clone()
                        }
                    };
                    let gid = s.security_groups[gi].id.clone();
                    let (cidrs, group) = match &peer {
                        SgPeer::Cidr(_) => continue,
                        SgPeer::PrefixList(pl) => match s.prefix_list(pl) {
                            Some(p) => (p.cidrs.clone(), None),
                            None => {
                                dangling.push((gid.clone(), vec![gid, pl.clone()], "security group rule references an unknown prefix list (matches nothing)".into()));
                                (vec![], None)
                            }
                        },
                        SgPeer::Group(g) => match s.by_id.get(g) {
                            Some(Resource::SecurityGroup(x)) => (vec![], Some(ix(*x))),
                            _ => {
                                dangling.push((gid.clone(), vec![gid, g.clone()], "security group rule references an unknown group (matches nothing)".into()));
                                (vec![], None)
                            }
                        },
                    };
                    let g = &mut s.security_groups[gi];
                    let rule = if egress {
                        &mut g.egress[ri]
                    } else {
                        &mut g.ingress[ri]
                    };
                    rule.peer_cidrs = cidrs;
                    rule.peer_group = group;
                }
            }
        }
        // NAT gateways: subnet.
        for n in &mut s.nat_gateways {
            match s.by_id.get(&n.subnet_id) {
                Some(Resource::Subnet(si)) => n.subnet = Some(ix(*si)),
                _ => dangling.push((
                    n.id.clone(),
                    vec![n.id.clone(), n.subnet_id.clone()],
                    "NAT gateway in an unknown subnet".into(),
                )),
            }
        }
        // Peerings: both ends known?
        for p in &s.peerings {
            for side in [&p.requester, &p.accepter] {
                if !matches!(s.by_id.get(&side.vpc_id), Some(Resource::Vpc(_))) {
                    self.problems.push(problem(
                        Severity::Note,
                        file_of
                            .get(&p.id)
                            .and_then(|&f| self.files.get(f))
                            .map(PathBuf::as_path),
                        vec![p.id.clone(), side.vpc_id.clone()],
                        "peering connection to a VPC outside the snapshot".into(),
                    ));
                }
            }
        }
        // TGW propagations: routes to each VPC attachment's VPC CIDRs.
        for (f, ti, att) in props {
            let tgw = s.tgw_route_tables[ti].tgw_id.clone();
            let Some(a) = s.tgw_attachment(&tgw, &att).cloned() else {
                self.warn(
                    f,
                    vec![s.tgw_route_tables[ti].id.clone(), att],
                    "propagation from an unknown or inactive attachment".into(),
                );
                continue;
            };
            s.tgw_route_tables[ti].propagations.push(att.clone());
            if a.resource_type == "vpc" {
                match s.vpc(&a.resource_id) {
                    Some(v) => {
                        let cidrs = v.cidrs.clone();
                        for c in cidrs {
                            s.tgw_route_tables[ti].routes.push(TgwRoute {
                                cidr: c,
                                attachment: Some(att.clone()),
                                propagated: true,
                                blackhole: false,
                            });
                        }
                    }
                    None => self.warn(
                        f,
                        vec![att, a.resource_id],
                        "propagation from a VPC outside the snapshot".into(),
                    ),
                }
            } else {
                self.note(
                    f,
                    vec![att],
                    format!(
                        "propagation from a {} attachment (BGP-learned routes) not modelled",
                        a.resource_type
                    ),
                );
            }
        }
        for a in &s.tgw_attachments {
            if let Some(rt) = &a.route_table
                && !matches!(s.by_id.get(rt), Some(Resource::TgwRouteTable(_)))
            {
                dangling.push((
                    a.id.clone(),
                    vec![a.id.clone(), rt.clone()],
                    "attachment associated with an unknown transit gateway route table".into(),
                ));
            }
        }

        for (id, ids, msg) in dangling {
            let f = file_of.get(&id).copied().unwrap_or(usize::MAX);
            self.warn(f, ids, msg);
        }

        // AWS address space.
        if raw.ip_ranges.is_empty() {
            s.aws_prefixes = coarse_aws_prefixes();
        } else {
            for p in &raw.ip_ranges {
                let Some(c) = p
                    .ip_prefix
                    .as_deref()
                    .or(p.ipv6_prefix.as_deref())
                    .and_then(Cidr::parse)
                else {
                    continue;
                };
                if !s.aws_prefixes.contains(&c) {
                    s.aws_prefixes.push(c);
                }
                let svc = p.service.as_deref().unwrap_or("");
                if svc != "AMAZON" && svc != "EC2" && !s.aws_service_prefixes.contains(&c) {
                    s.aws_service_prefixes.push(c);
                }
            }
        }
        for pl in &s.prefix_lists {
            if pl.name.starts_with("com.amazonaws.") {
                for c in &pl.cidrs {
                    if !s.aws_service_prefixes.contains(c) {
                        s.aws_service_prefixes.push(*c);
                    }
                }
            }
        }

        (s, self.problems)
    }

    fn route(
        &mut self,
        f: usize,
        rtb: &str,
        r: &raw::Route,
        pls: &[PrefixList],
        pl_index: &BTreeMap<String, usize>,
    ) -> Option<Route> {
        let target = if let Some(g) = r.GatewayId.as_deref() {
            if g == "local" {
                Target::Local
            } else if g.starts_with("igw-") {
                Target::InternetGateway(g.into())
            } else if g.starts_with("vgw-") {
                Target::VpnGateway(g.into())
            } else if g.starts_with("vpce-") {
                Target::GatewayEndpoint(g.into())
            } else {
                Target::Other(g.into())
            }
        } else if let Some(t) = &r.NatGatewayId {
            Target::NatGateway(t.clone())
        } else if let Some(t) = &r.TransitGatewayId {
            Target::TransitGateway(t.clone())
        } else if let Some(t) = &r.VpcPeeringConnectionId {
            Target::VpcPeeringConnection(t.clone())
        } else if let Some(t) = &r.EgressOnlyInternetGatewayId {
            Target::EgressOnlyInternetGateway(t.clone())
        } else if let Some(t) = &r.NetworkInterfaceId {
            Target::NetworkInterface(t.clone())
        } else if let Some(t) = &r.InstanceId {
            Target::Instance(t.clone())
        } else if let Some(t) = &r.VpcEndpointId {
            Target::GatewayEndpoint(t.clone())
        } else if let Some(t) = r
            .CarrierGatewayId
            .as_ref()
            .or(r.LocalGatewayId.as_ref())
            .or(r.CoreNetworkArn.as_ref())
        {
            Target::Other(t.clone())
        } else {
            self.warn(
                f,
                vec![rtb.to_string()],
                "route without a target, ignored".into(),
            );
            return None;
        };
        let origin = r.Origin.clone().unwrap_or_else(|| "CreateRoute".into());
        let propagated = origin == "EnableVgwRoutePropagation";
        let (destination, cidrs, pl, rank) = if let Some(c) = r
            .DestinationCidrBlock
            .as_deref()
            .or(r.DestinationIpv6CidrBlock.as_deref())
        {
            let cidr = self.cidr(f, rtb, c)?;
            (
                c.to_string(),
                vec![cidr],
                None,
                if propagated {
                    RouteRank::Propagated
                } else {
                    RouteRank::Static
                },
            )
        } else if let Some(pl) = &r.DestinationPrefixListId {
            let cidrs = match pl_index.get(pl) {
                Some(&i) => pls[i].cidrs.clone(),
                None => {
                    self.warn(
                        f,
                        vec![rtb.to_string(), pl.clone()],
                        "route to an unknown prefix list (matches nothing)".into(),
                    );
                    vec![]
                }
            };
            (pl.clone(), cidrs, Some(pl.clone()), RouteRank::PrefixList)
        } else {
            self.warn(
                f,
                vec![rtb.to_string()],
                "route without a destination, ignored".into(),
            );
            return None;
        };
        Some(Route {
            destination,
            cidrs,
            prefix_list_id: pl,
            target,
            blackhole: r.State.as_deref() == Some("blackhole"),
            rank,
            origin,
        })
    }

    fn sg_rules(&mut self, f: usize, gid: &str, perms: &[raw::IpPermission]) -> Vec<SgRule> {
        let mut out = Vec::new();
        for (pi, p) in perms.iter().enumerate() {
            let proto_s = p.IpProtocol.clone().unwrap_or_else(|| "-1".into());
            let Some(protocol) = crate::packet::parse_protocol(&proto_s) else {
                self.warn(
                    f,
                    vec![gid.to_string()],
                    format!("security group rule with protocol {proto_s:?}, ignored"),
                );
                continue;
            };
            let clamp = |v: Option<i64>| v.map_or(-1, |x| x.clamp(-1, 65535) as i32);
            let (from_port, to_port) = (clamp(p.FromPort), clamp(p.ToPort));
            let mut push = |peer: SgPeer, description: Option<String>| {
                out.push(SgRule {
                    protocol,
                    from_port,
                    to_port,
                    peer,
                    peer_cidrs: vec![],
                    peer_group: None,
                    description,
                    permission: pi,
                })
            };
            for r in &p.IpRanges {
                if let Some(c) = r.CidrIp.as_deref().and_then(Cidr::parse) {
                    push(SgPeer::Cidr(c), r.Description.clone());
                }
            }
            for r in &p.Ipv6Ranges {
                if let Some(c) = r.CidrIpv6.as_deref().and_then(Cidr::parse) {
                    push(SgPeer::Cidr(c), r.Description.clone());
                }
            }
            for r in &p.PrefixListIds {
                if let Some(pl) = &r.PrefixListId {
                    push(SgPeer::PrefixList(pl.clone()), r.Description.clone());
                }
            }
            for r in &p.UserIdGroupPairs {
                if let Some(g) = &r.GroupId {
                    push(SgPeer::Group(g.clone()), r.Description.clone());
                }
            }
        }
        out
    }

    fn acl_entry(&mut self, f: usize, id: &str, e: &raw::AclEntry) -> Option<NaclEntry> {
        let n = e.RuleNumber.unwrap_or(32767);
        if !(1..=32767).contains(&n) {
            self.warn(
                f,
                vec![id.to_string()],
                format!("network ACL rule number {n} out of range, ignored"),
            );
            return None;
        }
        let proto_s = e.Protocol.clone().unwrap_or_else(|| "-1".into());
        let Some(protocol) = crate::packet::parse_protocol(&proto_s) else {
            self.warn(
                f,
                vec![id.to_string()],
                format!("network ACL rule {n}: protocol {proto_s:?}, ignored"),
            );
            return None;
        };
        let cidr = match (e.CidrBlock.as_deref(), e.Ipv6CidrBlock.as_deref()) {
            (Some(c), _) | (None, Some(c)) => self.cidr(f, id, c)?,
            (None, None) => {
                self.warn(
                    f,
                    vec![id.to_string()],
                    format!("network ACL rule {n} without a CIDR, ignored"),
                );
                return None;
            }
        };
        let port_range = e.PortRange.as_ref().map(|r| {
            let c = |v: Option<i64>, d: u16| v.map_or(d, |x| x.clamp(0, 65535) as u16);
            (c(r.From, 0), c(r.To, 65535))
        });
        let icmp = e.IcmpTypeCode.as_ref().map(|t| {
            let c = |v: Option<i64>| v.map_or(-1, |x| x.clamp(-1, 255) as i16);
            (c(t.Type), c(t.Code))
        });
        Some(NaclEntry {
            rule_number: n as u16,
            allow: e
                .RuleAction
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("allow")),
            protocol,
            cidr,
            port_range,
            icmp,
        })
    }
}

fn attached(atts: &[raw::VpcAttachment]) -> Vec<String> {
    atts.iter()
        .filter(|a| {
            a.State
                .as_deref()
                .is_none_or(|s| s == "available" || s == "attached")
        })
        .filter_map(|a| a.VpcId.clone())
        .collect()
}

/// AWS-side tunnel outside addresses from a VPN connection's `CustomerGatewayConfiguration`
/// XML (`<vpn_gateway><tunnel_outside_address><ip_address>`), by plain text search.
fn vgw_outside_ips(xml: &str) -> Vec<Addr> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<vpn_gateway>") {
        rest = &rest[i + "<vpn_gateway>".len()..];
        let block = rest.find("</vpn_gateway>").map_or(rest, |j| &rest[..j]);
        if let Some(t) = block.find("<tunnel_outside_address>") {
            let b = &block[t..];
            if let (Some(a), Some(z)) = (b.find("<ip_address>"), b.find("</ip_address>"))
                && let Some(ip) = b.get(a + "<ip_address>".len()..z).and_then(Addr::parse)
            {
                out.push(ip);
            }
        }
    }
    out
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

    #[test]
    fn outside_ips_from_customer_gateway_xml() {
        let xml = "<ipsec_tunnel><customer_gateway><tunnel_outside_address><ip_address>1.1.1.1</ip_address></tunnel_outside_address></customer_gateway><vpn_gateway><tunnel_outside_address><ip_address>3.13.210.90</ip_address></tunnel_outside_address></vpn_gateway></ipsec_tunnel>";
        assert_eq!(
            vgw_outside_ips(xml),
            vec![Addr::parse("3.13.210.90").unwrap()]
        );
    }
}
