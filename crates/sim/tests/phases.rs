//! Configuration phases: the snapshot in force changes during a run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::time::Duration;

use common::*;
use flowwatch_net::Snapshot;
use flowwatch_sim::*;

/// The private instance's group (SSH only) opened to TCP 0-1024.
fn web_opened() -> Snapshot {
    edited("test-public-private-subnet", |name, v| {
        if name != "SecurityGroups.json" {
            return;
        }
        for g in v["SecurityGroups"].as_array_mut().unwrap() {
            if g["GroupId"] == "sg-063f2bb51713c3236" {
                g["IpPermissions"][0]["FromPort"] = 0.into();
                g["IpPermissions"][0]["ToPort"] = 1024.into();
            }
        }
    })
}

const WEB: &str = "interface-id srcaddr dstaddr dstport action flow-direction start";

fn web_traffic() -> Traffic {
    Traffic::parse(&format!(
        "[[flow]]\nname = \"web\"\nsource = \"{PUBLIC}\"\ndestination = \"{PRIVATE}\"\nport = 80\nrate = 2\n"
    ))
    .unwrap()
}

#[test]
fn a_flow_rejected_before_the_change_is_accepted_after() {
    let before = load("test-public-private-subnet");
    let after = web_opened();
    let change = t0() + chrono::Duration::seconds(300);
    let phases = [
        Phase {
            from: t0(),
            snapshot: &before,
        },
        Phase {
            from: change,
            snapshot: &after,
        },
    ];
    let out = simulate_phases(
        &phases,
        &web_traffic(),
        t0(),
        Duration::from_secs(600),
        &Options::default(),
    )
    .unwrap();
    let change = change.timestamp();
    let (mut early, mut late) = (0, 0);
    for r in out.records.iter().filter(|r| r.log_status == LogStatus::Ok) {
        let t = r.traffic.unwrap();
        let id = &out.interfaces[r.interface as usize].id;
        if r.start < change {
            early += 1;
            // The SG denies 80: the request's egress, its REJECT at the destination, no reply.
            assert_eq!(t.dstport, 80, "no reply before the change");
            let want = if id == PRIVATE_ENI {
                Action::Reject
            } else {
                Action::Accept
            };
            assert_eq!(t.action, want, "{id} at {}", r.start);
        } else {
            late += 1;
            assert_eq!(t.action, Action::Accept, "{id} at {}", r.start);
        }
    }
    assert!(early > 0 && late > 0, "{early} {late}");
    // After the change the reply flows back: records with source port 80 on both ENIs.
    let l = lines(&out, WEB);
    assert!(
        l.iter()
            .any(|x| x.starts_with(PRIVATE_ENI) && x.contains(" 80 ACCEPT ingress "))
    );
    assert!(out.records.iter().any(|r| {
        r.traffic
            .is_some_and(|t| t.srcport == 80 && t.flow_direction == FlowDirection::Ingress)
    }));
    // Connections are the same as with either snapshot alone: the draws ignore the snapshot.
    for s in [&before, &after] {
        let one = simulate(
            s,
            &web_traffic(),
            t0(),
            Duration::from_secs(600),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(one.stats.connections, out.stats.connections);
    }
    let st = &out.stats.flows[0];
    assert!(
        st.established > 0 && st.established < st.connections,
        "{st:?}"
    );
}

#[test]
fn simulate_is_one_phase_and_a_phase_of_the_same_snapshot_changes_nothing() {
    let s = load("test-public-private-subnet");
    let traffic = Traffic::parse(&format!(
        "[[flow]]\nsource = \"{PUBLIC}\"\ndestination = \"{PRIVATE}\"\nport = \"22-80\"\nrate = 9\n\
         [[scanner]]\nsource = \"198.51.100.7\"\ntarget = \"{PUBLIC}\"\nports = \"1-100\"\nrate = 30\n"
    ))
    .unwrap();
    let d = Duration::from_secs(900);
    let o = Options::default();
    let one = simulate(&s, &traffic, t0(), d, &o).unwrap();
    let p = |secs: i64| Phase {
        from: t0() + chrono::Duration::seconds(secs),
        snapshot: &s,
    };
    assert_eq!(
        simulate_phases(&[p(0)], &traffic, t0(), d, &o).unwrap(),
        one
    );
    // Phases may start before the run; the same snapshot twice gives the same records.
    let split = simulate_phases(&[p(-3600), p(301), p(302)], &traffic, t0(), d, &o).unwrap();
    assert_eq!(split, one);
}

#[test]
fn phase_order_and_endpoints_are_checked() {
    let a = load("test-public-private-subnet");
    let b = load("test-public-subnet");
    let at = |secs: i64| t0() + chrono::Duration::seconds(secs);
    let run = |phases: &[Phase], traffic: &Traffic| {
        simulate_phases(
            phases,
            traffic,
            t0(),
            Duration::from_secs(600),
            &Options::default(),
        )
    };
    let t = web_traffic();
    let err = |phases: &[Phase]| run(phases, &t).unwrap_err().to_string();
    let e = err(&[Phase {
        from: at(1),
        snapshot: &a,
    }]);
    assert!(
        e.contains("first phase must be in force from the start"),
        "{e}"
    );
    let e = err(&[
        Phase {
            from: at(0),
            snapshot: &a,
        },
        Phase {
            from: at(0),
            snapshot: &a,
        },
    ]);
    assert!(e.contains("phase 2") && e.contains("time order"), "{e}");
    assert!(err(&[]).contains("at least one"));

    // The instances do not exist in phase 2's snapshot: an error naming the line and phase.
    let two = [
        Phase {
            from: at(0),
            snapshot: &a,
        },
        Phase {
            from: at(300),
            snapshot: &b,
        },
    ];
    let e = err(&two);
    assert!(
        e.starts_with(&format!(
            "line 1 of the traffic file: flow 'web': source '{PUBLIC}'"
        )) && e.ends_with("in phase 2 (from 2026-11-02T12:05:00+00:00)"),
        "{e}"
    );
    // A flow that ends before phase 2 is not resolved there.
    let early = Traffic::parse(&format!(
        "\n[[flow]]\nsource = \"{PUBLIC}\"\ndestination = \"{PRIVATE}\"\nport = 22\nrate = 2\nend = \"5m\"\n"
    ))
    .unwrap();
    let out = run(&two, &early).unwrap();
    assert!(out.stats.connections > 0);
    // The logged interfaces are the union: phase 1's, then phase 2's new ones, each with NODATA
    // for the windows it saw nothing.
    let ids: Vec<&str> = out.interfaces.iter().map(|i| i.id.as_str()).collect();
    let first: Vec<&str> = a
        .enis
        .iter()
        .filter(|e| e.active)
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(ids[..first.len()], first[..]);
    let new = b.enis.iter().find(|e| e.active).unwrap();
    assert!(ids[first.len()..].contains(&new.id.as_str()), "{ids:?}");
    assert_eq!(out.stats.per_interface[&new.id].nodata, 10);
    // After the change the phase-1 instances are gone: only NODATA from them.
    let gone = out
        .interfaces
        .iter()
        .position(|i| i.id == PUBLIC_ENI)
        .unwrap() as u32;
    assert!(
        out.records
            .iter()
            .filter(|r| r.interface == gone && r.start >= at(300).timestamp())
            .all(|r| r.log_status == LogStatus::NoData)
    );
}
