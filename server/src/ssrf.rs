//! The SSRF guard. Deliveries go to URLs that tenants choose, so a URL could point the hub at
//! its own network (a database, the cloud metadata service). The guard runs *after* DNS
//! resolution — a public name that resolves to 10.0.0.5 is caught too — and, because reqwest
//! does not resolve IP literals, it also checks literal hosts before sending.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

#[derive(Debug, Clone, Default)]
pub struct TargetPolicy {
    /// `IH_ALLOW_PRIVATE_TARGETS`: deliver anywhere (development, tests).
    pub allow_private: bool,
    /// Subnets allowed even though they are private (`IH_ALLOWED_TARGET_CIDRS`).
    pub allowed: Vec<IpNet>,
    /// This hub's own port: its echo inspector (`http://127.0.0.1:{port}/echo/...`) is always
    /// reachable, and nothing else on loopback is.
    pub echo_port: Option<u16>,
}

impl TargetPolicy {
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// The IP literal of `url` that this policy refuses, if it names one. reqwest does not
    /// resolve literals (so the resolver's guard never sees them): the sender checks them before
    /// each attempt, and endpoint creation refuses them up front with a clear error.
    pub fn refused_literal(&self, url: &url::Url) -> Option<IpAddr> {
        let ip = match url.host()? {
            url::Host::Ipv4(ip) => IpAddr::V4(ip),
            url::Host::Ipv6(ip) => IpAddr::V6(ip),
            url::Host::Domain(_) => return None,
        };
        (!self.permits(ip) && !self.is_own_echo(url)).then_some(ip)
    }

    /// A URL of this hub's own echo inspector, given with a loopback IP literal.
    pub fn is_own_echo(&self, url: &url::Url) -> bool {
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        };
        loopback
            && self.echo_port.is_some()
            && url.port_or_known_default() == self.echo_port
            && url.path().starts_with("/echo/")
    }
}

/// Unicast addresses on the public internet. Everything else — loopback, private ranges,
/// link-local (incl. 169.254.169.254, the metadata service), CGNAT, multicast, documentation,
/// unspecified — is refused.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
                || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            // Addresses that carry an IPv4 address are judged by it: where a NAT64 gateway or a
            // 6to4 relay is on the path, 64:ff9b::10.0.0.5 or 2002:a00:5:: reach 10.0.0.5.
            if let Some(v4) = embedded_ipv4(v6) {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated, still routed by some)
                || (s[0], s[1], s[2]) == (0x64, 0xff9b, 1) // local-use NAT64 64:ff9b:1::/48
                || (s[0], s[1]) == (0x2001, 0) // Teredo 2001::/32 (tunnels to an IPv4 host)
                || (s[0], s[1], s[2], s[3]) == (0x100, 0, 0, 0) // discard-only 100::/64
                || (s[0], s[1]) == (0x2001, 0x0db8)) // documentation
        }
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::`) address.
fn embedded_ipv4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = v6.segments();
    let last = |hi: u16, lo: u16| std::net::Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(last(hi, lo)),
        // `::` and `::1` are IPv6's own; the rest of ::/96 is the old IPv4-compatible form.
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) > (0, 1) => Some(last(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(last(hi, lo)),
        [0x2002, hi, lo, ..] => Some(last(hi, lo)),
        _ => None,
    }
}

/// A resolver that drops the addresses the policy refuses; a name left with none fails.
pub struct GuardedResolver(pub Arc<TargetPolicy>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = format!("{}:0", name.as_str());
            let found: Vec<SocketAddr> = tokio::net::lookup_host(host).await?.collect();
            let allowed: Vec<SocketAddr> = found.iter().copied().filter(|a| policy.permits(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(Blocked(name.as_str().to_string())) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// A target refused by the SSRF guard.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to addresses that deliveries may not reach (private, loopback, link-local or metadata)")]
pub struct Blocked(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            // An IPv4 address inside IPv6: judged by the IPv4 address.
            "64:ff9b::a00:5",
            "64:ff9b::169.254.169.254",
            "2002:a00:5::1",
            "2002:7f00:1::",
            "::10.0.0.5",
            // Other ranges that are not the public internet.
            "64:ff9b:1::1",
            "2001:0:4136:e378::1",
            "fec0::1",
            "100::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::101:101", "2002:101:101::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} must be allowed");
        }
    }

    #[test]
    fn an_allow_listed_subnet_is_permitted() {
        let policy = TargetPolicy { allowed: vec!["10.9.0.0/16".parse().unwrap()], ..Default::default() };
        assert!(policy.permits("10.9.1.1".parse().unwrap()));
        assert!(!policy.permits("10.8.1.1".parse().unwrap()));
    }

    #[test]
    fn only_ip_literals_the_policy_refuses_are_reported() {
        let policy =
            TargetPolicy { allowed: vec!["10.9.0.0/16".parse().unwrap()], echo_port: Some(3917), ..Default::default() };
        let refused = |url: &str| policy.refused_literal(&url.parse().unwrap()).map(|ip| ip.to_string());
        assert_eq!(refused("http://169.254.169.254/latest").as_deref(), Some("169.254.169.254"));
        assert_eq!(refused("http://0x7f000001/x").as_deref(), Some("127.0.0.1"), "any spelling of an address");
        assert_eq!(refused("http://[fd00::1]/x").as_deref(), Some("fd00::1"));
        assert_eq!(refused("http://1.1.1.1/x"), None, "public");
        assert_eq!(refused("http://10.9.1.1/x"), None, "allow-listed subnet");
        assert_eq!(refused("http://127.0.0.1:3917/echo/tnt_1/a"), None, "this hub's echo");
        assert_eq!(refused("http://localhost/x"), None, "names are checked when resolved");
        let lax = TargetPolicy { allow_private: true, ..Default::default() };
        assert_eq!(lax.refused_literal(&"http://127.0.0.1/x".parse().unwrap()), None);
    }

    #[test]
    fn only_the_hubs_own_echo_path_on_loopback_is_exempt() {
        let policy = TargetPolicy { echo_port: Some(3917), ..Default::default() };
        let exempt = |url: &str| policy.is_own_echo(&url.parse().unwrap());
        assert!(exempt("http://127.0.0.1:3917/echo/tnt_1/abc"));
        assert!(exempt("http://[::1]:3917/echo/tnt_1/abc"));
        assert!(!exempt("http://127.0.0.1:3917/api/v1/tenants"), "other hub routes stay refused");
        assert!(!exempt("http://127.0.0.1:5432/echo/x"), "another port is another service");
        assert!(!exempt("http://10.0.0.1:3917/echo/x"), "only loopback is this hub");
        assert!(!exempt("http://localhost:3917/echo/x"), "names go through the resolver's guard");
    }
}
