//! `HttpRequest.get_host()` and `ALLOWED_HOSTS` (`django/http/request.py`).

/// `split_domain_port`: the lower-cased domain (trailing dot removed) and
/// port, or `None` when the host does not match `host_validation_re`.
pub fn split_domain_port(host: &str) -> Option<(String, String)> {
    let host = host.to_ascii_lowercase();
    let (domain, port) = if host.starts_with('[') {
        // `\[[a-f0-9]*:[a-f0-9.:]+\]` then an optional `:port`.
        let close = host.find(']')?;
        let inner = &host[1..close];
        let colon = inner.find(':')?;
        let ok_inner = inner[..colon].bytes().all(|b| b.is_ascii_hexdigit())
            && inner.len() > colon + 1
            && inner[colon + 1..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':');
        if !ok_inner {
            return None;
        }
        (host[..=close].to_owned(), &host[close + 1..])
    } else {
        let end = host
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(host.len());
        if end == 0 {
            return None;
        }
        (host[..end].to_owned(), &host[end..])
    };
    let port = match port.strip_prefix(':') {
        None if port.is_empty() => "",
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p,
        _ => return None,
    };
    let domain = domain
        .strip_suffix('.')
        .map(str::to_owned)
        .unwrap_or(domain);
    Some((domain, port.to_owned()))
}

/// `django.utils.http.is_same_domain`.
pub fn is_same_domain(host: &str, pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    let pattern = pattern.to_ascii_lowercase();
    (pattern.starts_with('.') && (host.ends_with(&pattern) || host == &pattern[1..]))
        || pattern == host
}

/// `validate_host(domain, ALLOWED_HOSTS)`.
pub fn validate_host(domain: &str, allowed: &[String]) -> bool {
    allowed
        .iter()
        .any(|p| p == "*" || is_same_domain(domain, p))
}

/// `get_host()`: the raw host if allowed, else `None` (DisallowedHost).
pub fn get_host<'a>(raw_host: &'a str, allowed: &[String]) -> Option<&'a str> {
    match split_domain_port(raw_host) {
        Some((domain, _)) if !domain.is_empty() && validate_host(&domain, allowed) => {
            Some(raw_host)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_django() {
        assert_eq!(
            split_domain_port("Example.COM:8000"),
            Some(("example.com".into(), "8000".into()))
        );
        assert_eq!(
            split_domain_port("example.com."),
            Some(("example.com".into(), "".into()))
        );
        assert_eq!(
            split_domain_port("[::1]:80"),
            Some(("[::1]".into(), "80".into()))
        );
        assert_eq!(split_domain_port("bad host"), None);
        assert_eq!(split_domain_port("a.com:"), None);
        assert_eq!(split_domain_port("a_b.com"), None);
    }

    #[test]
    fn allowed_hosts_patterns() {
        let allowed = vec![".example.com".to_string(), "testserver".to_string()];
        assert!(get_host("sub.example.com", &allowed).is_some());
        assert!(get_host("example.com:81", &allowed).is_some());
        assert!(get_host("testserver", &allowed).is_some());
        assert!(get_host("evil.com", &allowed).is_none());
        assert!(get_host("anything", &["*".to_string()]).is_some());
        assert!(get_host("", &["*".to_string()]).is_none());
    }
}
