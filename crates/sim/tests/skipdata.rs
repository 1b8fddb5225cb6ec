//! `[[capture_loss]]`: records lost in one capture window, and the SKIPDATA record AWS writes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::time::Duration;

use common::*;
use flowwatch_sim::*;

/// SSH between the instances with random source ports: many distinct records per window.
fn traffic(losses: &str) -> Traffic {
    Traffic::parse(&format!(
        "[[flow]]\nsource = \"{PUBLIC}\"\ndestination = \"{PRIVATE}\"\nport = 22\nrate = 40\n{losses}"
    ))
    .unwrap()
}

fn run(t: &Traffic) -> SimOutput {
    let s = load("test-public-private-subnet");
    simulate(&s, t, t0(), Duration::from_secs(300), &Options::default()).unwrap()
}

/// The records of `iface` whose window starts at `w` (absolute seconds).
fn in_window<'a>(out: &'a SimOutput, iface: &str, w: i64) -> Vec<&'a Record> {
    out.records
        .iter()
        .filter(|r| {
            out.interfaces[r.interface as usize].id == iface && r.start.div_euclid(60) * 60 == w
        })
        .collect()
}

#[test]
fn a_capture_loss_drops_records_of_its_window_and_adds_skipdata() {
    let base = run(&traffic(""));
    let out = run(&traffic(&format!(
        "[[capture_loss]]\nname = \"burst\"\ninterface = \"{PUBLIC}\"\nat = \"2m30s\"\n"
    )));
    let w = t0().timestamp() + 120;
    let before = in_window(&base, PUBLIC_ENI, w);
    let after = in_window(&out, PUBLIC_ENI, w);
    let skip: Vec<_> = after
        .iter()
        .filter(|r| r.log_status == LogStatus::SkipData)
        .collect();
    assert_eq!(skip.len(), 1);
    assert_eq!((skip[0].start, skip[0].end), (w, w + 59));
    assert!(skip[0].traffic.is_none());
    let kept = after.len() - 1;
    assert!(before.len() > 40, "{}", before.len());
    // Each record dropped with probability 0.6 (the default): far from none and from all.
    let dropped = before.len() - kept;
    assert!(
        dropped * 10 > before.len() * 4 && dropped * 10 < before.len() * 8,
        "{dropped} of {}",
        before.len()
    );
    // What survives is a subset of the records without the loss.
    assert!(
        after
            .iter()
            .filter(|r| r.traffic.is_some())
            .all(|r| before.contains(r))
    );
    let st = out.stats.per_interface[PUBLIC_ENI];
    assert_eq!((st.skipdata, st.dropped), (1, dropped as u64));
    assert_eq!(out.stats.records, base.stats.records - dropped as u64 + 1);
    // Every other window and interface is untouched; connections are the same.
    let rest = |o: &SimOutput| -> Vec<Record> {
        o.records
            .iter()
            .filter(|r| {
                !(o.interfaces[r.interface as usize].id == PUBLIC_ENI
                    && r.start.div_euclid(60) * 60 == w)
            })
            .copied()
            .collect()
    };
    assert_eq!(rest(&out), rest(&base));
    assert_eq!(out.stats.connections, base.stats.connections);
    assert_eq!(out.stats.per_interface[PRIVATE_ENI].skipdata, 0);
    // Deterministic.
    assert_eq!(
        run(&traffic(&format!(
            "[[capture_loss]]\nname = \"burst\"\ninterface = \"{PUBLIC}\"\nat = \"2m30s\"\n"
        ))),
        out
    );
    // The line: every packet field `-`, log-status SKIPDATA.
    let f = default_format();
    let line = render(skip[0], &out.interfaces[skip[0].interface as usize], &f);
    assert!(
        line.contains(&format!(
            " {PUBLIC_ENI} - - - - - - - {w} {} - SKIPDATA ",
            w + 59
        )),
        "{line}"
    );
}

#[test]
fn lost_bounds_and_a_quiet_window() {
    let w = t0().timestamp() + 60;
    // lost = 0: SKIPDATA, nothing dropped.
    let base = run(&traffic(""));
    let out = run(&traffic(&format!(
        "[[capture_loss]]\ninterface = \"{PRIVATE_ENI}\"\nat = 60\nlost = 0\n"
    )));
    let st = out.stats.per_interface[PRIVATE_ENI];
    assert_eq!((st.skipdata, st.dropped), (1, 0));
    assert_eq!(out.records.len(), base.records.len() + 1);
    // lost = 1: the window keeps only its SKIPDATA record.
    let out = run(&traffic(&format!(
        "[[capture_loss]]\ninterface = \"{PRIVATE}\"\nat = 60\nlost = 1\n"
    )));
    let left = in_window(&out, PRIVATE_ENI, w);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].log_status, LogStatus::SkipData);
    // A window without traffic gets SKIPDATA instead of NODATA.
    let quiet = Traffic::parse(&format!(
        "[[flow]]\nsource = \"{PUBLIC}\"\ndestination = \"{PRIVATE}\"\nport = 22\nrate = 1\nend = 60\n\
         [[capture_loss]]\ninterface = \"{PUBLIC}\"\nat = \"4m\"\n"
    ))
    .unwrap();
    let out = run(&quiet);
    let st = out.stats.per_interface[PUBLIC_ENI];
    assert_eq!((st.nodata, st.skipdata), (3, 1));
    assert_eq!(out.stats.per_interface[PRIVATE_ENI].nodata, 4);
}

#[test]
fn capture_loss_errors_name_the_line() {
    let s = load("test-public-private-subnet");
    let go = |t: &str| {
        let t = Traffic::parse(t).unwrap();
        simulate(&s, &t, t0(), Duration::from_secs(300), &Options::default())
            .unwrap_err()
            .to_string()
    };
    let e = go("\n[[capture_loss]]\ninterface = \"eni-nope\"\nat = 10\n");
    assert!(
        e.starts_with(
            "line 2 of the traffic file: capture loss 'capture-loss-1': interface 'eni-nope'"
        ),
        "{e}"
    );
    let e = go(&format!(
        "[[capture_loss]]\ninterface = \"{PUBLIC}\"\nat = \"5m\"\n"
    ));
    assert!(
        e.contains("'at' (300 s) is not within the simulation"),
        "{e}"
    );
    // An interface that is not logged.
    let t = Traffic::parse(&format!(
        "[[capture_loss]]\ninterface = \"{PUBLIC}\"\nat = 1\n"
    ))
    .unwrap();
    let o = Options {
        interfaces: vec![PRIVATE.into()],
        ..Options::default()
    };
    let e = simulate(&s, &t, t0(), Duration::from_secs(300), &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not among the logged interfaces"), "{e}");
}
