//! Where a finished sign-in may send the browser back to: a path of the
//! gateway's own, or a URL of an origin in `OSP_CORS_ORIGINS`. Anything else
//! would make the gateway an open redirector handing sign-in codes to
//! whoever names a URL.

/// The longest `redirect` accepted.
pub const MAX_REDIRECT_LEN: usize = 2048;

/// Checks a `redirect` asked for at the start of a sign-in: a path starting
/// with exactly one `/` (not `//`, not `/\`), or an absolute URL whose origin
/// (scheme, host, port; no user info) is exactly one of `allowed_origins`.
/// Neither may carry a fragment (the gateway appends its own) nor control
/// characters, spaces or backslashes.
pub fn check(redirect: &str, allowed_origins: &[String]) -> Result<(), &'static str> {
    if redirect.is_empty() || redirect.len() > MAX_REDIRECT_LEN {
        return Err("must be a path or an allowed URL of at most 2048 characters");
    }
    if redirect
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err("must not contain spaces, control characters or backslashes");
    }
    if redirect.contains('#') {
        return Err("must not carry a fragment");
    }
    if let Some(rest) = redirect.strip_prefix('/') {
        return if rest.starts_with('/') {
            Err("must start with exactly one '/' (a path of this gateway)")
        } else {
            Ok(())
        };
    }
    let url = url::Url::parse(redirect)
        .map_err(|_| "must be a path starting with '/' or an absolute URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry user info");
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL");
    }
    let origin = url.origin().ascii_serialization();
    if allowed_origins.contains(&origin) {
        Ok(())
    } else {
        Err("must be a path of this gateway or a URL of an origin in OSP_CORS_ORIGINS")
    }
}

/// `redirect` with `fragment` (already form-encoded) appended.
pub fn with_fragment(redirect: &str, fragment: &str) -> String {
    format!("{redirect}#{fragment}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> Vec<String> {
        vec![
            "https://app.example.com".to_owned(),
            "http://127.0.0.1:3000".to_owned(),
        ]
    }

    #[test]
    fn own_paths_and_allowed_origins_are_accepted() {
        for ok in [
            "/",
            "/graphql",
            "/graphql?tab=2",
            "https://app.example.com",
            "https://app.example.com/",
            "https://app.example.com/signed-in?x=1",
            "https://APP.example.com/a",
            "https://app.example.com:443/a",
            "http://127.0.0.1:3000/cb",
        ] {
            assert_eq!(check(ok, &origins()), Ok(()), "{ok}");
        }
    }

    #[test]
    fn other_places_are_refused() {
        for bad in [
            "",
            "//evil.example.com/",
            "/\\evil.example.com",
            "\\\\evil.example.com",
            "/%09/evil",
            "/\t/evil.example.com",
            "/ok#frag",
            "https://evil.example.com/",
            "https://app.example.com.evil.example.com/",
            "https://app.example.com@evil.example.com/",
            "https://user:pw@app.example.com/",
            "http://app.example.com/",
            "https://app.example.com:8443/",
            "http://127.0.0.1:3001/",
            "javascript:alert(1)",
            "data:text/html,hi",
            "evil.example.com",
            " /graphql",
        ] {
            if bad == "/%09/evil" {
                // Percent-encoded characters stay a path of this gateway.
                assert_eq!(check(bad, &origins()), Ok(()));
                continue;
            }
            assert!(check(bad, &origins()).is_err(), "{bad:?} accepted");
        }
        assert!(check(&format!("/{}", "a".repeat(MAX_REDIRECT_LEN)), &origins()).is_err());
    }

    #[test]
    fn without_origins_only_paths_are_accepted() {
        assert_eq!(check("/graphql", &[]), Ok(()));
        assert!(check("https://app.example.com/", &[]).is_err());
    }
}
