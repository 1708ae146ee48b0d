//! Who the client is at the network level, behind the proxies the operator trusts: its address
//! (for the audit log, IP allow-lists and rate limits) and whether it came over HTTPS (for the
//! session cookie). Shared by the REST layer and the UI adapter.

use std::net::IpAddr;

use http::HeaderMap;

use crate::domain::Hub;

/// The client's address: the peer, or — only when the peer is a configured trusted proxy —
/// the last address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(hub: &Hub, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted_proxy(hub, &peer) {
        return Some(peer);
    }
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).unwrap_or("");
    forwarded
        .rsplit(',')
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .find(|ip| !trusted_proxy(hub, ip))
        .or(Some(peer))
}

/// Whether the client came over HTTPS. The hub speaks plain HTTP, so only a proxy can say so:
/// `X-Forwarded-Proto: https` is believed from a configured trusted proxy, as `X-Forwarded-For`
/// is (the first value, the one the proxy nearest the client set).
pub fn over_https(hub: &Hub, headers: &HeaderMap, peer: Option<IpAddr>) -> bool {
    let proto = headers.get("x-forwarded-proto").map(|v| v.as_bytes().split(|b| *b == b',').next().unwrap_or_default());
    peer.is_some_and(|peer| trusted_proxy(hub, &peer))
        && proto.is_some_and(|proto| proto.trim_ascii().eq_ignore_ascii_case(b"https"))
}

fn trusted_proxy(hub: &Hub, ip: &IpAddr) -> bool {
    hub.config.trusted_proxies.iter().any(|net| net.contains(ip))
}
