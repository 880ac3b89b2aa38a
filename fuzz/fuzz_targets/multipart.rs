//! `django::multipart`: the streaming multipart parser, `boundary` and
//! `parse_header_parameters`.
//!
//! Input layout (see fuzz/seeds/multipart/):
//!   byte 0   Django version (`% 4`: 3.2, 4.2, 5.2, 6.0)
//!   byte 1   flags: bits 0-1 limits (none, Django's defaults, tiny, tiny fields
//!            only); bits 6+7 both set, "amplify": the first `@@c` of the body
//!            becomes ~64 KiB of `c`, so the parser's 64 KiB flush path is
//!            reached (bodies over 16 KiB go in 61-byte pieces, not 1-byte
//!            ones, to keep executions fast)
//!   byte 2   seed for the fuzzer-chosen split points
//!   then     a Content-Type line up to the first `\n` (its boundary is used
//!            when `boundary()` accepts it, else `XyZ`), then the body.
//!
//! Properties:
//!   * no panic, in the parser or the header helpers;
//!   * the file bytes handed out never exceed the body length;
//!   * the same body gives the same parts, bytes and final error whether it
//!     arrives as one piece, as 1-byte pieces, or cut at seed-chosen points
//!     (the streaming boundary search must not depend on read sizes).
#![no_main]

use bytes::Bytes;
use chunked_upload::django::multipart::{
    boundary, parse_header_parameters, Limits, MultipartParser, ParseError, Part,
};
use chunked_upload::django::DjangoVersion;
use futures_util::{stream, FutureExt};
use libfuzzer_sys::fuzz_target;

const VERSIONS: [DjangoVersion; 5] = [
    DjangoVersion::V3_2,
    DjangoVersion::V4_2,
    DjangoVersion::V5_2,
    DjangoVersion::V6_0,
    DjangoVersion::V6_1,
];

#[derive(PartialEq, Eq)]
struct Outcome {
    /// Each part with the concatenated bytes of a file part.
    parts: Vec<(Part, Vec<u8>)>,
    /// How the parse ended: `Ok(())` at the end of the body, or the error.
    end: Result<(), ParseError>,
}

/// Parts with their data's length and first bytes: a full dump of a 64 KiB
/// file part would drown the report.
impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_list();
        for (part, data) in &self.parts {
            let head = &data[..data.len().min(24)];
            l.entry(&format_args!(
                "{part:?} {} bytes {:?}{}",
                data.len(),
                String::from_utf8_lossy(head),
                if data.len() > 24 { "…" } else { "" }
            ));
        }
        l.entry(&self.end);
        l.finish()
    }
}

/// Known finding (base64 file parts decode in runs that follow the network
/// pieces, not Django's fixed 64 KiB reads): with MULTIPART_SKIP_BASE64=1 the
/// split comparison skips bodies that mention base64, so a run can look for
/// anything else meanwhile.
fn skip_base64() -> bool {
    static SKIP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SKIP.get_or_init(|| std::env::var_os("MULTIPART_SKIP_BASE64").is_some_and(|v| v == "1"))
}

/// Run one future that never waits: the stream is in memory, so every poll is
/// ready. A `Pending` would be a bug in the parser (or in this harness).
fn ready<T>(f: impl std::future::Future<Output = T>) -> T {
    f.now_or_never()
        .expect("in-memory stream: the parser must never be pending")
}

fn parse(
    pieces: Vec<Bytes>,
    boundary: &str,
    version: DjangoVersion,
    limits: Limits,
) -> Outcome {
    let items: Vec<Result<Bytes, String>> = pieces.into_iter().map(Ok).collect();
    let mut p = MultipartParser::new(stream::iter(items), boundary, version, limits);
    let mut parts = Vec::new();
    let end = loop {
        let part = match ready(p.next_part()) {
            Ok(Some(part)) => part,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        let mut data = Vec::new();
        let mut failed = None;
        if matches!(part, Part::File { .. }) {
            loop {
                match ready(p.next_file_chunk()) {
                    Ok(Some(c)) => data.extend_from_slice(&c),
                    Ok(None) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
        }
        parts.push((part, data));
        if let Some(e) = failed {
            break Err(e);
        }
    };
    Outcome { parts, end }
}

/// xorshift32: the split points, reproducible from the seed byte.
struct Rng(u32);
impl Rng {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

fn split_random(body: &[u8], seed: u8) -> Vec<Bytes> {
    let mut rng = Rng(0x9e37_79b9 ^ (seed as u32) << 8 | 1);
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        // Mostly short pieces, sometimes empty ones (the parser skips them),
        // sometimes long ones.
        let r = rng.next();
        let n = match r % 8 {
            0 => 0,
            1..=5 => 1 + (r >> 8) as usize % 16,
            6 => 1 + (r >> 8) as usize % 1100,
            _ => 1 + (r >> 8) as usize % 70_000,
        }
        .min(rest.len());
        out.push(Bytes::copy_from_slice(&rest[..n]));
        rest = &rest[n..];
    }
    out
}

fn amplify(body: &[u8], seed: u8) -> Vec<u8> {
    match body.windows(3).position(|w| w[0] == b'@' && w[1] == b'@') {
        Some(i) => {
            let n = 64 * 1024 - 300 + seed as usize * 3;
            let mut out = Vec::with_capacity(body.len() + n);
            out.extend_from_slice(&body[..i]);
            out.extend(std::iter::repeat_n(body[i + 2], n));
            out.extend_from_slice(&body[i + 3..]);
            out
        }
        None => body.to_vec(),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let version = VERSIONS[data[0] as usize % VERSIONS.len()];
    let flags = data[1];
    let seed = data[2];
    let rest = &data[3..];
    let (ct_line, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let ct = String::from_utf8_lossy(ct_line);

    // The header helpers on their own: no panic, and a boundary that
    // `boundary()` accepts satisfies Django's `[ -~]{0,200}[!-~]`.
    let _ = parse_header_parameters(&ct);
    let b = match boundary(&ct) {
        Ok(b) => {
            assert!(!b.is_empty() && b.len() <= 201, "boundary length {}", b.len());
            assert!(b.bytes().all(|c| (b' '..=b'~').contains(&c)), "boundary chars {b:?}");
            assert!(!b.ends_with(' '), "boundary ends with a space {b:?}");
            b
        }
        Err(_) => "XyZ".to_owned(),
    };

    let limits = match flags & 3 {
        0 => Limits::default(),
        1 => Limits {
            max_memory_size: Some(2_621_440),
            max_number_fields: Some(1000),
            max_number_files: Some(100),
        },
        2 => Limits {
            max_memory_size: Some(16),
            max_number_fields: Some(2),
            max_number_files: Some(1),
        },
        _ => Limits {
            max_memory_size: Some(0),
            max_number_fields: Some(0),
            max_number_files: None,
        },
    };
    let body: Vec<u8> = if flags & 0xc0 == 0xc0 {
        amplify(body, seed)
    } else {
        body.to_vec()
    };

    let whole = parse(vec![Bytes::copy_from_slice(&body)], &b, version, limits);
    let file_bytes: usize = whole.parts.iter().map(|(_, d)| d.len()).sum();
    assert!(
        file_bytes <= body.len(),
        "{file_bytes} file bytes out of a {}-byte body",
        body.len()
    );

    if skip_base64() && body.windows(6).any(|w| w.eq_ignore_ascii_case(b"base64")) {
        return;
    }
    let small = if body.len() > 16 * 1024 { 61 } else { 1 };
    let bytewise = parse(
        body.chunks(small).map(Bytes::copy_from_slice).collect(),
        &b,
        version,
        limits,
    );
    assert_eq!(whole, bytewise, "one piece vs {small}-byte pieces differ");

    let random = parse(split_random(&body, seed), &b, version, limits);
    assert_eq!(whole, random, "one piece vs seed-chosen pieces differ");
});
