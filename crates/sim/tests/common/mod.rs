//! Shared helpers of the newer integration tests: corpus snapshots (optionally edited in
//! memory), the run start, and rendering.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test uses a subset

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use flowwatch_net::Snapshot;
use flowwatch_sim::{LogFormat, SimOutput, render};

pub const PUBLIC: &str = "i-094a9e5b545a4fde4"; // 10.0.0.47, public 13.58.55.60
pub const PRIVATE: &str = "i-099cf38911942421c"; // 10.0.1.204
pub const PUBLIC_ENI: &str = "eni-09da8cad43844dc1f";
pub const PRIVATE_ENI: &str = "eni-07c1506e49d784fe0";

/// A Batfish scenario of the corpus (`$FLOWWATCH_CORPUS`, default `../shared/corpus`).
pub fn corpus(name: &str) -> PathBuf {
    std::env::var_os("FLOWWATCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
        .join("aws-snapshots/batfish/representation-aws")
        .join(name)
}

/// An instance's ENI without a public address (in `test-nat-gateway`: routed via the NAT).
pub fn private_instance_eni(s: &Snapshot) -> &flowwatch_net::model::Eni {
    s.enis
        .iter()
        .find(|e| {
            matches!(e.owner, flowwatch_net::model::EniOwner::Instance(_))
                && e.public_ips.is_empty()
        })
        .unwrap()
}

pub fn load(name: &str) -> Snapshot {
    Snapshot::load(corpus(name)).0
}

/// Every JSON file of `scenario` (recursively), with `edit` applied to each (by file name).
pub fn edited(scenario: &str, edit: impl Fn(&str, &mut serde_json::Value)) -> Snapshot {
    let mut docs = Vec::new();
    let root = corpus(scenario);
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let mut v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            edit(&name, &mut v);
            let rel = p.strip_prefix(&root).unwrap().to_string_lossy().to_string();
            docs.push((rel, v.to_string()));
        }
    }
    docs.sort();
    let (s, _) = Snapshot::from_json_documents(docs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    s
}

/// 2026-11-02T12:00:00Z.
pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_793_620_800, 0).unwrap()
}

/// Every record rendered in `format`.
pub fn lines(out: &SimOutput, format: &str) -> Vec<String> {
    let f = LogFormat::parse(format).unwrap();
    out.records
        .iter()
        .map(|r| render(r, &out.interfaces[r.interface as usize], &f))
        .collect()
}
