//! Writing kubeconfig files that point kube-rs / kubectl at simulators.

use std::fmt::Write as _;

/// What a kubeconfig needs to know about one simulator.
pub(crate) struct Endpoint<'a> {
    pub url: &'a str,
    pub token: Option<&'a str>,
    pub ca_pem: Option<&'a str>,
}

/// Standard base64 (with padding), for `certificate-authority-data`.
pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn q(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// A kubeconfig with one cluster/user/context per entry; the first context is current.
pub(crate) fn render(entries: &[(&str, Endpoint<'_>)]) -> String {
    let mut y = String::from("apiVersion: v1\nkind: Config\npreferences: {}\nclusters:\n");
    for (name, ep) in entries {
        let _ = write!(
            y,
            "- name: {}\n  cluster:\n    server: {}\n",
            q(name),
            q(ep.url)
        );
        if let Some(ca) = ep.ca_pem {
            let _ = writeln!(
                y,
                "    certificate-authority-data: {}",
                q(&base64(ca.as_bytes()))
            );
        }
    }
    y.push_str("users:\n");
    for (name, ep) in entries {
        match ep.token {
            Some(t) => {
                let _ = write!(y, "- name: {}\n  user:\n    token: {}\n", q(name), q(t));
            }
            None => {
                let _ = write!(y, "- name: {}\n  user: {{}}\n", q(name));
            }
        }
    }
    y.push_str("contexts:\n");
    for (name, _) in entries {
        let _ = write!(
            y,
            "- name: {n}\n  context:\n    cluster: {n}\n    user: {n}\n    namespace: \"default\"\n",
            n = q(name)
        );
    }
    let current = entries
        .first()
        .map(|(n, _)| q(n))
        .unwrap_or_else(|| "\"\"".into());
    let _ = writeln!(y, "current-context: {current}");
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
