//! `http::parse_content_range` (the view's `content_range_pattern`,
//! `^bytes (\d+)-(\d+)/(\d+)$`).
//!
//! Properties:
//!   * `Some` exactly when an independent matcher accepts the input (ASCII
//!     digits; no trailing newline: a header value cannot carry one);
//!   * each number equals its decimal value when it fits u128, else saturates
//!     to u128::MAX;
//!   * numbers built from the input round-trip through `bytes S-E/T`.
#![no_main]

use chunked_upload::http::parse_content_range;
use libfuzzer_sys::fuzz_target;

/// A hand-written matcher for `^bytes [0-9]+-[0-9]+/[0-9]+$`: the three digit
/// runs, or None.
fn reference(s: &str) -> Option<[&str; 3]> {
    let b = s.as_bytes();
    let prefix = b"bytes ";
    if b.len() < prefix.len() || &b[..prefix.len()] != prefix {
        return None;
    }
    let mut runs = [""; 3];
    let mut i = prefix.len();
    for (k, sep) in [Some(b'-'), Some(b'/'), None].into_iter().enumerate() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        runs[k] = &s[start..i];
        match sep {
            Some(c) => {
                if i >= b.len() || b[i] != c {
                    return None;
                }
                i += 1;
            }
            None => {
                if i != b.len() {
                    return None;
                }
            }
        }
    }
    Some(runs)
}

/// Decimal digits → u128, saturating (checked arithmetic, not `str::parse`).
fn value(digits: &str) -> u128 {
    let mut v: u128 = 0;
    for d in digits.bytes() {
        match v.checked_mul(10).and_then(|x| x.checked_add((d - b'0') as u128)) {
            Some(x) => v = x,
            None => return u128::MAX,
        }
    }
    v
}

fn u128_from(bytes: &[u8]) -> u128 {
    let mut buf = [0u8; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    u128::from_le_bytes(buf)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let got = parse_content_range(s);
        match (got, reference(s)) {
            (None, None) => {}
            (Some((a, b, c)), Some(runs)) => {
                assert_eq!(
                    (a, b, c),
                    (value(runs[0]), value(runs[1]), value(runs[2])),
                    "wrong numbers for {s:?}"
                );
            }
            (got, want) => panic!("{s:?}: parse_content_range {got:?}, pattern {want:?}"),
        }
    }
    // Round trip: three numbers taken from the input (lengths chosen by the
    // first byte so small and huge values both occur).
    if let Some((&sel, rest)) = data.split_first() {
        let lens = [
            (sel & 3) as usize * 4 + 4,
            ((sel >> 2) & 3) as usize * 4 + 4,
            ((sel >> 4) & 3) as usize * 4 + 4,
        ];
        if rest.len() >= lens.iter().sum::<usize>() {
            let (a, r) = rest.split_at(lens[0]);
            let (b, r) = r.split_at(lens[1]);
            let c = &r[..lens[2]];
            let (a, b, c) = (u128_from(a), u128_from(b), u128_from(c));
            let zeros = "0".repeat((sel >> 6) as usize);
            let header = format!("bytes {zeros}{a}-{b}/{zeros}{c}");
            assert_eq!(
                parse_content_range(&header),
                Some((a, b, c)),
                "round trip of {header:?}"
            );
        }
    }
});
