//! DNS rebinding guard: a page of `evil.example` whose name is made to resolve to this
//! server's address would be same-origin with it for the browser, and could read the app's
//! pages. The browser still sends `Host: evil.example`, so only requests naming this server
//! are served: an IP address (a rebinding needs a name), `localhost`, or `public_url`'s host.
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::sync::Arc;

/// The host name of `public_url`, lower case, without port.
#[derive(Clone, Default)]
pub struct KnownHost(pub Option<Arc<str>>);

impl KnownHost {
    pub fn from_public_url(url: Option<&str>) -> KnownHost {
        KnownHost(
            url.and_then(|u| reqwest::Url::parse(u).ok())
                .and_then(|u| {
                    u.host_str()
                        .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
                })
                .map(Into::into),
        )
    }

    /// Whether `authority` (`host[:port]`, `[v6]:port`) names this server.
    pub fn allows(&self, authority: &str) -> bool {
        let name = host_name(authority).to_ascii_lowercase();
        name.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || self.0.as_deref() == Some(name.as_str())
    }
}

/// `a.example:3000` → `a.example`; `[::1]:3000` → `::1`.
fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

pub async fn known_host(State(known): State<KnownHost>, req: Request, next: Next) -> Response {
    let authority = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match authority {
        Some(authority) if !known.allows(&authority) => {
            tracing::warn!(host = %authority, "request for another host name refused");
            (
                StatusCode::MISDIRECTED_REQUEST,
                "This server does not answer for that host name (set public_url).",
            )
                .into_response()
        }
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::KnownHost;

    #[test]
    fn addresses_localhost_and_the_public_host_only() {
        let known = KnownHost::from_public_url(Some("https://desk.example.com/"));
        for ok in [
            "127.0.0.1:3000",
            "[::1]:3000",
            "10.0.0.5",
            "localhost:3000",
            "LOCALHOST",
            "desk.example.com",
            "Desk.Example.com:443",
        ] {
            assert!(known.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example:3000",
            "desk.example.com.evil.example",
            "localhost.evil",
        ] {
            assert!(!known.allows(refused), "{refused}");
        }
        assert!(!KnownHost::default().allows("desk.example.com"));
    }
}
