//! Capture sets: several inputs read as one account. Real traffic between two network
//! namespaces captured at both ends of the veth pair (every frame twice, from two places), and
//! synthetic sets split per host and vmk the way pktcap-uw captures them.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::netns::{
    Namespaces, PORT, Tcpdump, dropped_by_kernel, json_line, missing_prerequisite, traffic_script,
    u64s, wait_for_marker,
};
use crate::util::{TempDir, run, skip_or_fail};

/// TCP payload per flow direction in a report: (client → server, server → client), sorted.
fn tcp_flows(report: &Value) -> Vec<(u64, u64)> {
    let mut flows: Vec<(u64, u64)> = report["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .filter(|f| f["protocol"] == "tcp")
        .map(|f| {
            (
                f["client_to_server"]["payload_bytes"].as_u64().unwrap_or(0),
                f["server_to_client"]["payload_bytes"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    flows.sort();
    flows
}

#[test]
fn both_ends_of_a_real_transfer_count_once() {
    if let Some(why) = missing_prerequisite() {
        skip_or_fail(&why);
        return;
    }
    let ns = match Namespaces::create() {
        Ok(ns) => ns,
        Err(e) => {
            skip_or_fail(&format!("cannot create network namespaces: {e}"));
            return;
        }
    };
    let dir = TempDir::new("sets-netns");
    let a_file = dir.path().join("end-a.pcap");
    let b_file = dir.path().join("end-b.pcap");
    let dumps = [
        Tcpdump::start(&ns.a, "vethA", None, a_file.clone()),
        Tcpdump::start(&ns.b, "vethB", None, b_file.clone()),
    ];
    let targets = ["192.0.2.2=1048576", "192.0.2.2=204800"];
    let mut server = Command::new("ip")
        .args(["netns", "exec", &ns.b, "python3"])
        .arg(traffic_script())
        .args(["server", PORT, &targets.len().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let mut server_out = BufReader::new(server.stdout.take().expect("stdout"));
    let mut ready = String::new();
    server_out.read_line(&mut ready).expect("server stdout");
    assert_eq!(ready.trim(), "ready", "server did not start");
    let client = Command::new("ip")
        .args(["netns", "exec", &ns.a, "python3"])
        .arg(traffic_script())
        .args(["client", PORT, "192.0.2.2", "3"])
        .args(targets)
        .output()
        .expect("run client");
    assert!(client.status.success(), "client failed");
    let mut rest = Vec::new();
    server_out.read_to_end(&mut rest).expect("server stdout");
    assert!(server.wait().expect("server").success());
    let client = json_line(&client.stdout, "client");
    let _server = json_line(&rest, "server");
    wait_for_marker(&a_file);
    wait_for_marker(&b_file);
    let stderrs: Vec<String> = dumps.into_iter().map(Tcpdump::stop).collect();
    if stderrs.iter().any(|e| dropped_by_kernel(e) > 0) {
        skip_or_fail("the kernel dropped packets; the two captures are not complete");
        return;
    }
    let sent = u64s(&client["sent"]);
    let replies = u64s(&client["received"]);
    let mut want: Vec<(u64, u64)> = sent.iter().copied().zip(replies.iter().copied()).collect();
    want.sort();

    let r = run(&[
        "analyze",
        a_file.to_str().expect("path"),
        b_file.to_str().expect("path"),
        "--json",
        "-",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let both = r.json();
    let c = &both["capture"];
    let inputs = c["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 2);
    let pa = inputs[0]["packets"].as_u64().expect("packets");
    let pb = inputs[1]["packets"].as_u64().expect("packets");
    assert_eq!(c["packets"], pa + pb);
    // Every TCP and UDP frame both ends saw is counted once (ARP and ICMPv6 neighbour
    // discovery are not matched: hosts repeat them identically).
    let tcp_udp = |r: &Value| {
        let d = &r["capture"]["decode"];
        d["tcp"].as_u64().expect("tcp") + d["udp"].as_u64().expect("udp")
    };
    let one = crate::util::analyze_json(&a_file);
    let other = crate::util::analyze_json(&b_file);
    assert_eq!(
        c["duplicates"]["frames"].as_u64(),
        Some(tcp_udp(&one).min(tcp_udp(&other))),
        "{}",
        c["duplicates"]
    );
    // The bytes, counted once, are what the applications sent (or, when the kernel resent
    // a segment, what one end's capture counts).
    let clean = one["flows"].as_array().expect("flows").iter().all(|f| {
        ["client_to_server", "server_to_client"]
            .iter()
            .all(|d| f[d]["retransmitted_bytes"] == 0 && f[d]["not_captured_bytes"] == 0)
    });
    if clean {
        assert_eq!(tcp_flows(&one), want, "flows of one input");
    } else {
        eprintln!("note: retransmissions or losses in the capture; comparing with one input");
    }
    assert_eq!(
        tcp_flows(&both),
        tcp_flows(&one),
        "flows of two inputs vs one"
    );
    for (class, t) in one["classes"].as_object().expect("classes") {
        assert_eq!(
            both["classes"][class]["payload_bytes"], t["payload_bytes"],
            "{class} payload, two inputs vs one"
        );
    }
    // Two clocks, one machine: the offset is near 0 (the frames' time on the veth pair).
    let clocks = c["clocks"].as_array().expect("clocks");
    assert_eq!(clocks.len(), 2, "{clocks:?}");
    assert_eq!(clocks[1]["source"], "estimated", "{clocks:?}");
    let off = clocks[1]["offset_ms"].as_f64().expect("offset");
    assert!(
        off.abs() < 1.0,
        "offset {off} ms between two ends of one veth"
    );
    // The traffic says where each input was taken: both addresses are in every frame, so it
    // cannot name one; the vantage stays unknown rather than guessed.
    assert_eq!(inputs[0]["vantage"]["source"], "unknown");
}
