//! The AWS network model: load a snapshot of `aws ec2`/`aws elbv2` describe outputs, evaluate security
//! groups, network ACLs and routes exactly, and answer reachability questions the way AWS's
//! Reachability Analyzer does — in microseconds, with the rule behind every hop and the
//! Reachability Analyzer explanation code behind every block. Reference:
//! `../shared/spec/mirror-reachability.md` §2–§7. No IO beyond reading the snapshot
//! directory, no async, no DataFusion.
//!
//! A tour:
//! * [`Snapshot::load`] walks a directory (Batfish's `aws_configs/[accounts/<acct>/]<region>/`
//!   layout, CloudMapper's `<acct>/<region>/ec2-describe-*.json`, or any tree of files) and
//!   recognises each file by its top-level keys, never by name ([`load`]). It returns the
//!   snapshot and a list of [`Problem`]s: malformed JSON (file, line, column), items of the
//!   wrong shape (skipped one by one), unknown keys (notes), dangling references (a route to
//!   a missing peering connection, an ENI in an unknown subnet — warnings with both ids).
//!   [`Snapshot::summary`] counts what was found per type, region and VPC.
//! * [`model`]: the domain types and the indexes built at load: id → resource,
//!   (VPC, private IP) → ENI, public IP → ENI, per-subnet route table (explicit or main) and
//!   NACL (explicit or default), per-group sorted member addresses for group references.
//! * [`sg`]: [`Snapshot::eval_security_groups`] — one packet against one ENI's groups,
//!   returning the deciding rule; [`nacl`]: [`Snapshot::eval_nacl`] — first match in
//!   rule-number order, else `*` (32767); [`route`]: longest-prefix match with AWS's tie
//!   rules. All three are allocation-free: `explain` calls them per flow-log record.
//! * [`reach()`]: a [`Query`] (source and destination as ids or addresses, protocol, ports)
//!   walked hop by hop into an [`Analysis`] shaped like `NetworkInsightsAnalysis`. The walk
//!   lives in [`mod@reach`]'s submodules: `walk` (ENI, subnet, VPC, peering), `gateways` (IGW,
//!   backbone, NAT, VGW), `tgw`, `trace` (endpoints, forward then return path) and
//!   `explain` (the rule recorded per hop, the explanation when it blocks).
//! * [`access::analyze`]: a Network Access Scope ([`Scope::parse`] for AWS's JSON,
//!   [`Scope::builtin`] for `internet-exposed`, `ssh-rdp-from-internet`,
//!   `isolated-vpcs:SEL,…`, `egress-without-nat`) evaluated exhaustively over header space
//!   into [`Finding`]s shaped like `AccessScopeAnalysisFinding`.
//! * Loading is split by resource family: `load` (files, keys, the phase order), `load/vpc`
//!   (prefix lists, VPCs, subnets, route tables, SGs, NACLs), `load/eni`, `load/gateways`,
//!   `load/tgw`, `load/index` (lookup indexes and dangling references).
//!
//! ## Semantics
//! Security groups (§2): stateful union of allow rules; `-1` = every protocol and port; a
//! protocol number other than 6/17/1/58 matches every port; TCP/UDP ranges test the
//! destination port; ICMP `FromPort`/`ToPort` are type/code, -1 any; IPv4 and IPv6 CIDRs,
//! prefix lists (their CIDRs) and referenced groups (the private addresses of every ENI that
//! carries the group, in any VPC of the snapshot). They apply between ENIs of one subnet too.
//! NACLs (§3): stateless; entries sorted by rule number, first match decides, else the `*`
//! deny reported as 32767; inbound entries match the source, outbound the destination, ports
//! the destination port; both the source subnet's egress and the destination subnet's ingress
//! apply, and neither applies between addresses of the same subnet. Routes (§4): the subnet's
//! explicit table else the VPC's main one; LPM, a CIDR only matching its family; blackhole
//! routes drop; IGW egress needs a public address on the source's private address (1:1 NAT
//! both ways); egress-only IGWs carry IPv6 out only; NAT gateways translate the source to
//! their private address (the IGW then to their public one), accept TCP/UDP/ICMP from their
//! VPC only, and admit only replies of their own sessions; peering is followed only when
//! active, the destination must be inside the far side's CIDRs, and the far VPC delivers
//! locally — never onward (non-transitive); the reply needs the far side's route back;
//! transit gateways route by the associated table of the ingress attachment (static routes,
//! propagated VPC CIDRs, blackholes; TGW peering attachments lead to the peer TGW's table for
//! the same attachment id); gateway endpoints are reached through prefix-list routes.
//!
//! ## Choices where the spec is not confirmed (each pinned by a test)
//! * Route ties: LPM first across CIDR and prefix-list routes; at equal length a static CIDR
//!   route beats a prefix-list route, which beats a propagated one; then the first listed.
//! * A subnet whose AZ has no subnet of the VPC's TGW attachment cannot use the TGW
//!   (`TGW_ATTACH_VPC_AZ_RESTRICTION`, null-routed at the subnet, as Batfish does).
//! * Internet and backbone: the internet drops non-internet destinations (RFC 1918, RFC 6598,
//!   link-local, …) and hands AWS space to the backbone; the backbone delivers public
//!   addresses of the snapshot to their IGW and VGW tunnel addresses to the VGW; other AWS
//!   addresses are dropped when the packet came from the internet and leave through the AWS
//!   services gateway when it came from inside. AWS space is `ip-ranges.json` if the snapshot
//!   has one (top-level key `prefixes`), else a coarse built-in list
//!   ([`ip::coarse_aws_prefixes`]); AWS service space is the snapshot's `com.amazonaws.*`
//!   prefix lists plus non-EC2 prefixes of `ip-ranges.json`.
//! * A packet routed to an ENI (appliance) is assumed forwarded unchanged if source/dest check
//!   is off. Transit-gateway traffic is not filtered by the attachment subnets' NACLs
//!   (Batfish's choice). A TGW VPN / Direct Connect attachment is where the model ends
//!   (`EXITS_NETWORK`).
//! * Gateway endpoints carry TCP and ICMP only (`VPCE_GATEWAY_PROTOCOL_RESTRICTION`).
//! * A missing port is 0; a missing TCP/UDP source port is 49152; ICMP defaults to echo.
//! * `NetworkPathFound` requires the reply to make it back (NACLs and routes on the way
//!   back), not only the request to arrive.
//! * Files directly under `aws_configs/` are account `default`, region `us-west-2`
//!   (Batfish's defaults); stopped instances' ENIs deliver nothing.
//! * Load balancers (Elastic Load Balancing v2): a packet to a node's address is taken by the
//!   listener of its protocol and port (else `ELBV2_LISTENER_PORT_RESTRICTION`) and sent to
//!   the first healthy target, in `describe-target-health` order, of the node's zone — of any
//!   zone with cross-zone load balancing (always on for application load balancers) — else
//!   `ELBV2_NO_TARGETS_IN_AZ`; AWS spreads connections by a flow hash, the model follows one.
//!   Network load balancers keep the client's address for instance targets (the target's
//!   reply is steered back through the node; the hops on that leg see the node's address as
//!   destination); application load balancers and IP targets see the node's address. A node's
//!   security groups apply when it has any. Access analysis follows network load balancers
//!   to their target and ends paths at the node for the others.
//!
//! ## Network access analysis ([`access`])
//! Exhaustive, not sampled. A [`access::HeaderSet`] is a union of disjoint 5-dimensional
//! boxes (protocol × source address × destination address × source port × destination port,
//! inclusive intervals; IPv4). Each source the scope can use starts a symbolic walk over the
//! same hops as `reach`, carrying the set of every TCP/UDP header it can send:
//! * a security group list admits the union of its rules' boxes (L4 × peer ranges; group
//!   references expand to the members' addresses, prefix lists to their CIDRs), computed once
//!   per group list and direction;
//! * a NACL admits ⋃ᵢ (entryᵢ ∩ allowᵢ ∖ (entry₁ ∪ … ∪ entryᵢ₋₁)) — first match as box
//!   differences — computed once per NACL and direction; the `*` deny drops the rest;
//! * a route table is a partition of the destination axis (longest prefix first, then the
//!   tie rules above); each route's part follows its target (local delivery, IGW with the
//!   public-address check, NAT gateway with source translation and its subnet's NACL and
//!   table, active peering into the far VPC only, TGW tables likewise partitioned);
//! * each branch that arrives (an ENI's security groups admit it, or it leaves through an
//!   IGW, VGW, gateway endpoint, unfollowed TGW attachment, or a peer outside the snapshot)
//!   is a path with the headers that arrive, rewritten back to how they left the source.
//!
//! A path is a finding for ⋃ (headers matching a `MatchPaths` statement) ∖ ⋃ (headers
//! matching an `ExcludePaths` statement); a statement matches on its source and destination
//! resource statements, all its `ThroughResources`, and the intersection of its packet header
//! statements. Findings report the set as canonical rows (destination ports, then source,
//! destination, source port), with CIDRs, plus the set itself for exact tests.
//!
//! Choices where the spec is silent:
//! * IPv4 TCP and UDP only (as NAA); ICMP and IPv6 rules never match the analysed space.
//! * Unidirectional (as NAA): replies, hence the return NACLs, are not required.
//! * Sources: the internet (through the VPC's first IGW, to each public IPv4 address of an
//!   active ENI that is not a NAT gateway's; source space = internet-routable IPv4, the
//!   complement of the non-internet list of [`ip::is_non_internet`]) and every private IPv4
//!   address of every active non-NAT ENI. VGWs, TGW attachments and peering connections are
//!   not sources; destinations through an IGW are internet-routable addresses only.
//! * A destination statement naming a gateway type matches the gateway the path leaves
//!   through; `Resources` match ids or the last segment of an ARN; an ENI is selected by its
//!   id, its owner's id or type, its groups, subnet or VPC, and by `tag:Key=Value` on its
//!   VPC (stand-in for NAA's resource-group ARNs; VPC and subnet tags are loaded).
//! * `isolated-vpcs` takes selectors (VPC ids or tags): one `MatchPath` per ordered pair.
//! * Routes to ENIs (appliances) and carrier/local gateways are not followed.
//!
//! ## Performance (`scripts/bench-net`, `examples/bench_net.rs`)
//! * Loading reads each file straight into the typed DTOs (`load/fast`); only a file with any
//!   error at all is re-read through a `serde_json::Value` item by item, so one bad item
//!   still costs only itself and problems are unchanged.
//! * `eval_security_groups` walks 16-byte compact rules (protocol, destination ports, IPv4
//!   peer interval) built at load, one per rule in the same order; ICMP, IPv6, prefix-list and
//!   group-reference peers fall back to the full rule after the port screen. Random ENIs per
//!   packet are bound by cache misses on the rule tables (≈ 0.3 M/s on 37 MB of rules); in
//!   ENI order, as flow-log streams are, ≈ 5 M/s.
//!
//! ## Invariants
//! * Loading never panics and never fails as a whole; every skipped thing is a [`Problem`].
//! * A [`Snapshot`] is immutable after load; indexes ([`EniIdx`], [`SubnetIdx`], …) are
//!   valid for the snapshot that produced them only.
//! * [`reach()`] is a pure function of snapshot and query, bounded by a hop budget (a loop
//!   is reported as `LOOP`, never spins).
//! * Deliberately absent: load balancers, Network Firewall, BGP (VPN/DX dynamic routes),
//!   on-premises devices, the simulator.
//! * [`access::analyze`] is exhaustive: a header absent from every finding is not admitted
//!   (pinned against `reach` on the corpus scenarios).

pub mod access;
pub mod analysis;
pub mod error;
pub mod ip;
pub mod load;
pub mod model;
pub mod nacl;
pub mod packet;
mod raw;
pub mod reach;
pub mod route;
pub mod sg;
pub mod summary;

use std::path::{Path, PathBuf};

pub use access::{Finding, FindingHeader, Scope, analyze};
pub use analysis::{Analysis, Component, Disposition, Explanation, ExplanationCode, PathComponent};
pub use error::{NetError, Problem, Result, Severity};
pub use ip::{Addr, Cidr};
pub use model::{EniIdx, NaclIdx, Resource, SgIdx, Snapshot, SubnetIdx, VpcIdx};
pub use nacl::NaclDecision;
pub use packet::{Direction, Packet};
pub use reach::{Endpoint, Query, reach};
pub use sg::SgDecision;
pub use summary::Summary;

impl Snapshot {
    /// Load every `*.json` file under `dir`. Never fails: problems are returned beside the
    /// (possibly partial) snapshot.
    pub fn load(dir: impl AsRef<Path>) -> (Snapshot, Vec<Problem>) {
        load::Loader::load_dir(dir.as_ref(), None)
    }

    /// Load only `files` (paths relative to `dir`; account and region still come from them).
    pub fn load_files(dir: impl AsRef<Path>, files: &[PathBuf]) -> (Snapshot, Vec<Problem>) {
        load::Loader::load_dir(dir.as_ref(), Some(files))
    }

    /// Build a snapshot from in-memory documents: (relative path, JSON text) pairs.
    pub fn from_json_documents<'a>(
        docs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (Snapshot, Vec<Problem>) {
        let mut l = load::Loader::default();
        for (path, text) in docs {
            l.add_text(Path::new(path), text);
        }
        l.finish()
    }
}
