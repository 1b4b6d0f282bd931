//! The response headers that keep pages from being framed, sniffed or leaking their address
//! (issue "Security hardening" §1). One policy for every response: pages add the nonce that
//! Leptos gave their inline scripts (`pages::shell`), every other response (exports, health,
//! errors, static files) gets the same policy without one (`server/src/web/headers.rs`).
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The `Content-Security-Policy` value; `nonce`: the page's script nonce.
///
/// Styles: our stylesheet, plus the exact inline style attributes of the email layout — the
/// email preview is a sandboxed `srcdoc` iframe, which inherits this policy (`'unsafe-hashes'`
/// allows those attribute values and nothing else).
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}'"),
        None => "'self'".to_owned(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' {}; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        email_style_hashes()
    )
}

fn email_style_hashes() -> &'static str {
    static HASHES: OnceLock<String> = OnceLock::new();
    HASHES.get_or_init(|| {
        let layout = include_str!("../../../templates/email/layout.html");
        let mut hashes = vec!["'unsafe-hashes'".to_owned()];
        for part in layout.split("style=\"").skip(1) {
            if let Some((value, _)) = part.split_once('"') {
                let digest = Sha256::digest(value.as_bytes());
                hashes.push(format!(
                    "'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                ));
            }
        }
        hashes.join(" ")
    })
}

/// The other headers, with their values, that every response carries; `hsts`: the app is
/// served over https (`public_url`).
pub fn fixed_headers(hsts: bool) -> Vec<(&'static str, &'static str)> {
    let mut headers = vec![
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ];
    if hsts {
        headers.push(("strict-transport-security", "max-age=31536000"));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_nonce_and_the_layout_style() {
        let policy = content_security_policy(Some("abc"));
        assert!(
            policy.contains("script-src 'self' 'nonce-abc';"),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(
            policy.contains("'sha256-"),
            "the layout has a style attribute: {policy}"
        );
        assert!(!content_security_policy(None).contains("nonce"));
    }
}
