//! `django::csrf_token` (format, mask/unmask, comparisons) and the
//! `django::csrf` middleware decisions.
//!
//! Input layout (see fuzz/seeds/csrf_token/): byte 0 flags, then lines (`\n`,
//! lossily UTF-8, so non-ASCII and odd lengths occur):
//!   0 the CSRF cookie     1 the POST token     2 the header token
//!   3 Origin              4 Host               5 trusted origins, `,`-separated
//!   6 the CSRF header name
//! flags: bits 0-1 Django version; bit 2 no cookie; bit 3 no header token;
//! bit 4 no Origin; bit 5 no Host; bit 6 is_secure.
//!
//! Properties: no panic on any string; for a well-formed secret and mask
//! (built from the input bytes), `unmask(mask_with(s, m)) == s`,
//! `token_matches(mask_with(s, m), s)`, the 3.2 comparisons agree, and the
//! middleware accepts the masked token (POST or header) against that cookie.
#![no_main]

use chunked_upload::django::csrf::{
    before_body, check_token, process_request, process_request_session, RequestFacts,
};
use chunked_upload::django::csrf_token::{
    is_well_formed, mask, mask_with, masked_tokens_match_3_2, sanitize_3_2, token_matches,
    unmask, CSRF_ALLOWED_CHARS,
};
use chunked_upload::django::DjangoVersion;
use libfuzzer_sys::fuzz_target;

const VERSIONS: [DjangoVersion; 4] = [
    DjangoVersion::V3_2,
    DjangoVersion::V4_2,
    DjangoVersion::V5_2,
    DjangoVersion::V6_1,
];

/// 32 allowed characters from the input bytes (cycled; 'a's when empty).
fn well_formed_from(bytes: &[u8], offset: usize) -> String {
    let chars = CSRF_ALLOWED_CHARS.as_bytes();
    (0..32)
        .map(|i| {
            if bytes.is_empty() {
                'a'
            } else {
                chars[bytes[(i + offset) % bytes.len()] as usize % chars.len()] as char
            }
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let version = VERSIONS[(flags & 3) as usize];
    let text = String::from_utf8_lossy(rest);
    let lines: Vec<&str> = text.split('\n').collect();
    let line = |i: usize| lines.get(i).copied().unwrap_or("");
    let (cookie, post, header) = (line(0), line(1), line(2));
    let trusted: Vec<String> = line(5)
        .split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let header_name = match line(6) {
        "" => "x-csrftoken",
        h => h,
    };

    // Every token function on arbitrary strings: no panic, and the
    // documented shapes.
    for s in [cookie, post, header] {
        let wf = is_well_formed(s);
        let u = unmask(s);
        assert!(u.is_empty() || u.len() == 32, "unmask({s:?}) = {u:?}");
        if wf && s.len() == 64 {
            assert_eq!(u.len(), 32, "unmask of well-formed {s:?}");
            assert_eq!(mask_with(&u, &s[..32]), s, "re-mask of {s:?}");
        }
        match sanitize_3_2(s) {
            Some(t) => {
                assert!(wf, "sanitize_3_2 kept malformed {s:?}");
                assert_eq!(t.len(), 64);
                assert_eq!(unmask(&t).len(), 32);
            }
            None => assert!(!(wf && s.is_ascii()), "sanitize_3_2 refused {s:?}"),
        }
        for t in [cookie, post, header] {
            let _ = token_matches(s, t);
            let _ = masked_tokens_match_3_2(s, t);
            let _ = mask_with(s, t);
        }
    }

    // Well-formed secret and masks: the round trips.
    let secret = well_formed_from(rest, 0);
    let m1 = well_formed_from(rest, 7);
    let m2 = well_formed_from(rest, 13);
    let token = mask_with(&secret, &m1);
    assert_eq!(token.len(), 64);
    assert!(is_well_formed(&token), "{token:?}");
    assert_eq!(unmask(&token), secret, "unmask(mask_with({secret:?}, {m1:?}))");
    assert!(token_matches(&token, &secret), "{token:?} vs {secret:?}");
    assert!(token_matches(&secret, &secret));
    assert_eq!(masked_tokens_match_3_2(&token, &mask_with(&secret, &m2)), Ok(true));
    assert_eq!(sanitize_3_2(&token).as_deref(), Some(token.as_str()));
    assert_eq!(unmask(&sanitize_3_2(&secret).unwrap()), secret);
    let other = well_formed_from(rest, 1);
    if other != secret {
        assert!(!token_matches(&token, &other));
        assert_eq!(masked_tokens_match_3_2(&token, &mask(&other)), Ok(false));
    }

    // The middleware on arbitrary input: no panic.
    let cookie_opt = (flags & 4 == 0).then_some(cookie);
    let header_opt = (flags & 8 == 0).then_some(header);
    let facts = RequestFacts {
        method: "POST",
        origin: (flags & 16 == 0).then_some(line(3)),
        referer: (flags & 128 == 0).then_some(line(7)),
        host: (flags & 32 == 0).then_some(line(4)),
        is_secure: flags & 64 != 0,
    };
    // The cookie, or the same text as a CSRF_USE_SESSIONS session token.
    for state in [
        process_request(version, cookie_opt),
        process_request_session(version, cookie_opt),
    ] {
        if let Err(r) = before_body(version, &trusted, &state, &facts) {
            let _ = r.page();
        }
        if let Err(r) = check_token(version, header_name, &state, post, header_opt) {
            let _ = r.page();
        }
    }

    // A well-formed cookie (the secret, or its masked form) accepts the
    // masked token from POST or from the header.
    {
        let v = version;
        for c in [secret.as_str(), token.as_str()] {
            let st = process_request(v, Some(c));
            assert!(st.malformed.is_none() && st.new_cookie.is_none(), "{v} {c:?}");
            // Plain HTTP: neither the Origin nor the Referer rule applies.
            let no_origin = RequestFacts { origin: None, is_secure: false, ..facts };
            assert!(before_body(v, &[], &st, &no_origin).is_ok(), "{v} {c:?}");
            let t2 = mask_with(&secret, &m2);
            assert!(check_token(v, header_name, &st, &t2, None).is_ok(), "{v} post {t2:?} cookie {c:?}");
            assert!(check_token(v, header_name, &st, "", Some(&t2)).is_ok(), "{v} header {t2:?} cookie {c:?}");
            if other != secret {
                let bad = mask_with(&other, &m2);
                assert!(check_token(v, header_name, &st, &bad, None).is_err(), "{v} wrong {bad:?} cookie {c:?}");
            }
        }
    }
});
