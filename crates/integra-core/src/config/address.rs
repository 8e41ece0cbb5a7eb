//! Addresses: URLs parsed with the `url` crate when the configuration is loaded, into the
//! form every transport connects with.
//!
//! A configuration is refused for an address no transport could use (a bad port, a
//! bracketed IPv6 address left open, a path or query where the protocol has none), with a
//! problem naming the field, instead of being accepted and failing every delivery. Each
//! transport takes its host and port from an [`Address`]: a host name or an IP address
//! without brackets (what is resolved, and the TLS server name), the port given or the
//! scheme's default, and `host:port` with IPv6 in brackets for messages.

#![cfg_attr(
    not(all(
        feature = "http",
        feature = "amqp",
        feature = "kafka",
        feature = "mqtt"
    )),
    allow(
        dead_code,
        reason = "each transport reads its part; a build without some leaves theirs unread"
    )
)]

use std::fmt;

use url::{Host, Url};

use crate::limits::quoted;

/// The protocol of an endpoint's address: what its scheme names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// `http://`, `https://`.
    Http,
    /// `amqp://`, `amqps://`.
    Amqp,
    /// `kafka://`, `kafkas://`: a list of brokers.
    Kafka,
    /// `mqtt://`, `mqtts://`.
    Mqtt,
}

/// One host and port to connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HostPort {
    host: Host<String>,
    /// The port given, or the scheme's default.
    pub(crate) port: u16,
}

impl HostPort {
    /// The host name or IP address, without brackets: what to resolve or connect to, and the
    /// TLS server name.
    pub(crate) fn host(&self) -> String {
        match &self.host {
            Host::Domain(name) => name.clone(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        }
    }

    /// True for an IPv6 address.
    fn is_ipv6(&self) -> bool {
        matches!(self.host, Host::Ipv6(_))
    }
}

impl fmt::Display for HostPort {
    /// `host:port`, an IPv6 address in brackets: what `ToSocketAddrs` takes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// An endpoint's address, parsed (see the module's docs).
#[derive(Clone, Debug)]
pub(crate) struct Address {
    /// True for the TLS schemes (`https`, `amqps`, `kafkas`, `mqtts`).
    pub(crate) tls: bool,
    /// Where to connect: one host, or Kafka's bootstrap brokers.
    pub(crate) hosts: Vec<HostPort>,
    /// The URL as parsed, for HTTP and AMQP (whose paths and queries mean something).
    url: Option<Url>,
}

impl Address {
    /// Parses an endpoint's `base_url`.
    ///
    /// # Errors
    /// What is wrong with it, quoting it without credentials.
    pub(crate) fn parse(text: &str) -> Result<Address, String> {
        if super::split_credentials(text).is_some() {
            return Err(parse_url(text, &[]).err().unwrap_or_default());
        }
        let (scheme, rest) = text.split_once("://").unwrap_or_default();
        let (protocol, tls) = match scheme {
            "http" => (Protocol::Http, false),
            "https" => (Protocol::Http, true),
            "amqp" => (Protocol::Amqp, false),
            "amqps" => (Protocol::Amqp, true),
            "kafka" => (Protocol::Kafka, false),
            "kafkas" => (Protocol::Kafka, true),
            "mqtt" => (Protocol::Mqtt, false),
            "mqtts" => (Protocol::Mqtt, true),
            _ => {
                return Err(format!(
                    "'{}' must start with {}",
                    quoted(text),
                    super::ENDPOINT_SCHEMES.join(" or ")
                ));
            }
        };
        let in_text = |e: String| format!("'{}': {e}", quoted(text));
        let default_port = match (protocol, tls) {
            (Protocol::Http, false) => 80,
            (Protocol::Http, true) => 443,
            (Protocol::Amqp, false) => 5672,
            (Protocol::Amqp, true) => 5671,
            (Protocol::Kafka, _) => 9092,
            (Protocol::Mqtt, false) => 1883,
            (Protocol::Mqtt, true) => 8883,
        };
        let (hosts, url) = if protocol == Protocol::Kafka {
            let list = rest.strip_suffix('/').unwrap_or(rest);
            let hosts = list
                .split(',')
                .map(|broker| {
                    let url = parse_url(&format!("{scheme}://{}", broker.trim()), &[])?;
                    no_path_or_query(&url, "a Kafka broker")?;
                    host_port(&url, default_port)
                })
                .collect::<Result<Vec<_>, String>>()
                .map_err(in_text)?;
            if tls && hosts.iter().any(HostPort::is_ipv6) {
                return Err(in_text("a kafkas:// broker must be named by a host name or an IPv4 address (the Kafka client cannot check a certificate for an IPv6 address)".to_owned()));
            }
            (hosts, None)
        } else {
            let url = parse_url(text, &[])?;
            match protocol {
                Protocol::Http if url.query().is_some() || url.fragment().is_some() => {
                    return Err(in_text(
                        "a base address has no query or fragment (a subscriber's path may)"
                            .to_owned(),
                    ));
                }
                Protocol::Amqp => amqp_problem(&url).map_err(in_text)?,
                Protocol::Mqtt => no_path_or_query(&url, "an MQTT broker").map_err(in_text)?,
                Protocol::Http | Protocol::Kafka => {}
            }
            let host = host_port(&url, default_port).map_err(in_text)?;
            (vec![host], Some(url))
        };
        Ok(Address { tls, hosts, url })
    }

    /// The first (for every protocol but Kafka, the only) host.
    pub(crate) fn host(&self) -> &HostPort {
        &self.hosts[0]
    }

    /// The HTTP base address requests are sent below: the URL as parsed, without a final `/`.
    pub(crate) fn http_base(&self) -> String {
        self.url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_default()
    }
}

/// Parses `text` as a URL with one of `schemes` (any, when empty) and a host, refusing
/// credentials before `@` without quoting them, and characters a URL cannot hold.
///
/// # Errors
/// What is wrong with `text`.
pub(crate) fn parse_url(text: &str, schemes: &[&str]) -> Result<Url, String> {
    if super::split_credentials(text).is_some() {
        return Err(format!(
            "'{}' holds credentials before '@', which would show wherever the address is shown; give them in the authentication settings instead",
            super::without_credentials(text)
        ));
    }
    if !schemes.is_empty() && !schemes.iter().any(|s| text.starts_with(s)) {
        return Err(format!(
            "'{}' must start with {}",
            quoted(text),
            schemes.join(" or ")
        ));
    }
    let bad = |c: char| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c);
    if text.chars().any(bad) {
        return Err(format!(
            "'{}' contains characters not allowed in a URL",
            quoted(text)
        ));
    }
    let no_host = || format!("'{}' has no host", quoted(text));
    let url = Url::parse(text).map_err(|e| match e {
        url::ParseError::EmptyHost => no_host(),
        e => format!("'{}' is not a valid URL: {e}", quoted(text)),
    })?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(no_host());
    }
    Ok(url)
}

/// The host and port of `url`, the host parsed as a special scheme's (a domain in lower
/// case, or an IP address), the port `default` when none is given.
fn host_port(url: &Url, default: u16) -> Result<HostPort, String> {
    let host = match url.host() {
        Some(Host::Domain(name)) => {
            Host::parse(name).map_err(|e| format!("'{}' is not a host: {e}", quoted(name)))?
        }
        Some(host) => host.to_owned(),
        None => return Err("has no host".to_owned()),
    };
    let port = url.port().unwrap_or(default);
    if port == 0 {
        return Err("port 0 is not a port to connect to".to_owned());
    }
    Ok(HostPort { host, port })
}

/// Refuses a path (other than `/`), a query or a fragment: `what` has none.
fn no_path_or_query(url: &Url, what: &str) -> Result<(), String> {
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{what} is addressed by host and port alone, without a path or a query"
        ));
    }
    Ok(())
}

/// The query parameters an `amqp://` address may carry (RabbitMQ's URI specification, as
/// the AMQP client reads them).
const AMQP_PARAMETERS: &[&str] = &[
    "heartbeat",
    "connection_timeout",
    "channel_max",
    "frame_max",
    "auth_mechanism",
];

/// What is wrong with an AMQP address's virtual host or query, if anything.
fn amqp_problem(url: &Url) -> Result<(), String> {
    if url.path_segments().is_some_and(|s| s.count() > 1) {
        return Err(
            "the path is the virtual host: one segment (write '/' in it as %2f)".to_owned(),
        );
    }
    if url.fragment().is_some() {
        return Err("an AMQP address has no fragment".to_owned());
    }
    for (key, value) in url.query_pairs() {
        let fits = match key.as_ref() {
            "heartbeat" | "channel_max" => value.parse::<u16>().is_ok(),
            "frame_max" => value.parse::<u32>().is_ok(),
            "connection_timeout" => value.parse::<u64>().is_ok(),
            "auth_mechanism" => [
                "amqplain",
                "anonymous",
                "external",
                "plain",
                "rabbit-cr-demo",
            ]
            .contains(&value.to_lowercase().as_str()),
            _ => {
                return Err(format!(
                    "unknown query parameter '{}'; use {}",
                    quoted(&key),
                    AMQP_PARAMETERS.join(", ")
                ));
            }
        };
        if !fits {
            return Err(format!(
                "'{}' is not a value of query parameter '{key}'",
                quoted(&value)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> Vec<String> {
        match Address::parse(text) {
            Ok(a) => a.hosts.iter().map(ToString::to_string).collect(),
            Err(e) => vec![format!("error: {e}")],
        }
    }

    /// Issue 22: `mqtt://[::1]` was accepted and every delivery failed with "'1]' is not a
    /// port"; every scheme now has its host (IPv6 in brackets) and default port.
    #[test]
    fn hosts_and_default_ports_per_scheme() {
        assert_eq!(hosts("mqtt://[::1]"), ["[::1]:1883"]);
        assert_eq!(hosts("mqtts://[::1]:8884/"), ["[::1]:8884"]);
        assert_eq!(hosts("amqp://Rabbit.Local"), ["rabbit.local:5672"]);
        assert_eq!(hosts("amqps://10.0.0.1/%2f"), ["10.0.0.1:5671"]);
        assert_eq!(hosts("https://[2001:db8::1]/api"), ["[2001:db8::1]:443"]);
        assert_eq!(hosts("http://shop"), ["shop:80"]);
        assert_eq!(
            hosts("kafka://k1:9093, k2,[::1]:9094/"),
            ["k1:9093", "k2:9092", "[::1]:9094"]
        );
        let a = Address::parse("mqtt://[::1]").unwrap();
        assert_eq!(a.host().host(), "::1");
        assert_eq!(
            Address::parse("http://Shop:8080/base/")
                .unwrap()
                .http_base(),
            "http://shop:8080/base"
        );
    }

    #[test]
    fn addresses_no_transport_could_use_are_refused() {
        for (text, problem) in [
            ("mqtt://[::1", "is not a valid URL: invalid IPv6 address"),
            ("mqtt://h:99999", "is not a valid URL: invalid port number"),
            ("mqtt://h:0", "port 0 is not a port to connect to"),
            ("mqtt://h/topic", "without a path or a query"),
            ("kafka://k1:9092,", "has no host"),
            ("kafka://k1:x", "invalid port number"),
            (
                "kafkas://[::1]:9093",
                "cannot check a certificate for an IPv6 address",
            ),
            (
                "http://shop/api?key=1",
                "a base address has no query or fragment",
            ),
            ("amqp://r/a/b", "the path is the virtual host"),
            (
                "amqp://r/?heartbeat=x",
                "is not a value of query parameter 'heartbeat'",
            ),
            ("amqp://r/?colour=red", "unknown query parameter 'colour'"),
            ("http://sh op", "contains characters not allowed in a URL"),
            ("ftp://x", "must start with http://"),
        ] {
            let err = Address::parse(text).err().unwrap_or_default();
            assert!(err.contains(problem), "{text}: {err}");
        }
    }
}
