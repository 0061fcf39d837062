//! Who is asking: the client's address (behind trusted reverse proxies only) and a
//! readable name for its browser.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::config::IpNet;
use crate::state::AppState;

/// The client's address as far as it can be trusted: the TCP peer, unless the peer
/// is one of `trusted` proxies — then the nearest address in `X-Forwarded-For`
/// that is not itself a trusted proxy (walking right to left, since every proxy
/// appends, and anything to the left of the first untrusted hop was written by
/// the client and may be forged).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim())
        .filter_map(parse_hop)
        .collect();
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        client = hop.to_canonical();
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_hop(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok().or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// The client's address of a request (see [`client_ip`]). `None` only when the
/// server was started without connection info (never in `serve`).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    pub fn text(&self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ClientAddr, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddr(peer.map(|p| client_ip(p, &parts.headers, &state.trusted_proxies))))
    }
}

/// A short name for a browser from its user agent, for the device list:
/// "Chrome trên Android (SM-A105F)", "Safari trên iPhone", "Firefox trên Windows".
/// Good enough to tell an official's phone from their office computer; never used
/// for decisions.
pub fn device_name(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = if ua.contains("Zalo") {
        "Zalo"
    } else if ua.contains("CocCoc") || ua.contains("coc_coc") {
        "Cốc Cốc"
    } else if ua.contains("SamsungBrowser") {
        "Samsung Internet"
    } else if ua.contains("Edg/") || ua.contains("EdgA/") {
        "Edge"
    } else if ua.contains("OPR/") || ua.contains("Opera") {
        "Opera"
    } else if ua.contains("Firefox/") || ua.contains("FxiOS/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("CriOS/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        "Trình duyệt"
    };
    let system = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") {
        "iPhone"
    } else if ua.contains("iPad") {
        "iPad"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("CrOS") {
        "ChromeOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        ""
    };
    // Android puts the model before "Build/" or the closing parenthesis:
    // "Linux; Android 10; SM-A105F)".
    let model = ua
        .find("Android")
        .and_then(|i| ua[i..].split(')').next())
        .and_then(|inside| inside.split(';').nth(1))
        .map(|m| m.split(" Build/").next().unwrap_or(m).trim())
        .filter(|m| !m.is_empty() && *m != "K" && m.len() <= 40 && m.chars().all(|c| c.is_ascii_graphic() || c == ' '));
    let mut name = browser.to_string();
    if !system.is_empty() {
        name.push_str(" trên ");
        name.push_str(system);
    }
    if let Some(model) = model {
        name.push_str(&format!(" ({model})"));
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // No trusted proxy: the header is ignored (anyone could send it).
        assert_eq!(client_ip(ip("203.0.113.9"), &xff("1.1.1.1"), &[]), ip("203.0.113.9"));
        // Peer is the trusted proxy: the last hop it appended is the client.
        let trusted = nets(&["127.0.0.1"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &xff("198.51.100.7"), &trusted), ip("198.51.100.7"));
        // A forged left part is ignored: only the hop our proxy appended counts.
        assert_eq!(client_ip(ip("127.0.0.1"), &xff("6.6.6.6, 198.51.100.7"), &trusted), ip("198.51.100.7"));
        // Two proxies in a chain, both trusted.
        let chain = nets(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &xff("198.51.100.7, 10.1.2.3"), &chain), ip("198.51.100.7"));
        // An untrusted peer sending the header is its own client.
        assert_eq!(client_ip(ip("192.0.2.1"), &xff("198.51.100.7"), &trusted), ip("192.0.2.1"));
        // Trusted peer without a header, or with garbage: the peer.
        assert_eq!(client_ip(ip("127.0.0.1"), &HeaderMap::new(), &trusted), ip("127.0.0.1"));
        assert_eq!(client_ip(ip("127.0.0.1"), &xff("unknown"), &trusted), ip("127.0.0.1"));
        // Ports and IPv6 forms.
        assert_eq!(client_ip(ip("::1"), &xff("[2001:db8::5]:443"), &nets(&["::1"])), ip("2001:db8::5"));
        assert_eq!(client_ip(ip("::ffff:127.0.0.1"), &xff("198.51.100.7:5000"), &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn device_names() {
        let a = "Mozilla/5.0 (Linux; Android 10; SM-A105F Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
        assert_eq!(device_name(a), "Chrome trên Android (SM-A105F)");
        let reduced = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
        assert_eq!(device_name(reduced), "Chrome trên Android");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_name(iphone), "Safari trên iPhone");
        let win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
        assert_eq!(device_name(win), "Firefox trên Windows");
        let coccoc = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) coc_coc_browser/117.0 Chrome/111.0 Safari/537.36";
        assert_eq!(device_name(coccoc), "Cốc Cốc trên Windows");
        assert_eq!(device_name(""), "Trình duyệt");
        assert_eq!(device_name("curl/8.0"), "Trình duyệt");
    }
}
