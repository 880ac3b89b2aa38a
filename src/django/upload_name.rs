//! The name Django gives an uploaded file part (`chunk.name`).

use super::DjangoVersion;

/// `MultiPartParser` then `UploadedFile.name` setter: `html.unescape`, keep
/// what follows the last `/` then the last `\`, drop non-printable characters
/// (4.2+), reject `""`/`.`/`..` (→ `None`: the part is skipped), then
/// `os.path.basename` and cut to 255 code points keeping the `splitext` ext.
pub fn sanitize(raw: &str, version: DjangoVersion) -> Option<String> {
    // http/multipartparser.py MultiPartParser.sanitize_file_name
    let unescaped = html_unescape(raw);
    let name = unescaped.rsplit('/').next().unwrap_or("");
    let name = name.rsplit('\\').next().unwrap_or("");
    let name: String = if version.is_4_or_later() {
        name.chars().filter(|&c| is_printable(c, version)).collect()
    } else {
        name.to_string()
    };
    if name.is_empty() || name == "." || name == ".." {
        return None;
    }
    // core/files/uploadedfile.py UploadedFile._set_name: basename (a no-op
    // now: no '/' is left), then the 255-code-point cut keeping the extension.
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= 255 {
        return Some(name);
    }
    let (root, ext) = splitext(&chars);
    let ext = &ext[..ext.len().min(255)];
    let keep = 255 - ext.len();
    Some(root[..keep.min(root.len())].iter().chain(ext).collect())
}

/// `posixpath.splitext` on a name without `/`: the extension starts at the
/// last `.`, unless only dots precede it (`.bashrc`, `...`).
fn splitext(chars: &[char]) -> (&[char], &[char]) {
    match chars.iter().rposition(|&c| c == '.') {
        Some(dot) if chars[..dot].iter().any(|&c| c != '.') => chars.split_at(dot),
        _ => (chars, &[]),
    }
}

/// Python `str.isprintable()` of the interpreter the version was verified on
/// (3.11.7 for 4.2, 3.12.1 for 5.2 and 6.0).
fn is_printable(c: char, version: DjangoVersion) -> bool {
    let in_table = |table: &[(u32, u32)]| {
        let cp = c as u32;
        table
            .binary_search_by(|&(lo, hi)| {
                if hi < cp {
                    std::cmp::Ordering::Less
                } else if lo > cp {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    };
    !(in_table(NON_PRINTABLE_PY312)
        || (version == DjangoVersion::V4_2 && in_table(NEW_IN_UNICODE_15)))
}

/// Python's `html.unescape`. Hand-written on `htmlize::ENTITIES` (the same
/// WHATWG table as `html.entities.html5`) because `htmlize::unescape` follows
/// the WHATWG tokenizer, which keeps the code points Python drops
/// (`&#1;` → `""`) and only considers alphanumeric entity names.
pub fn html_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '&' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        match charref_at(&chars, i + 1) {
            Some((end, replacement)) => {
                out.push_str(&replacement);
                i = end;
            }
            None => {
                out.push('&');
                i += 1;
            }
        }
    }
    out
}

/// Python `html._charref` (`&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)`)
/// matched right after a `&` at `start`, and `html._replace_charref`'s result.
fn charref_at(chars: &[char], start: usize) -> Option<(usize, String)> {
    let run = |from: usize, pred: &dyn Fn(char) -> bool, max: usize| {
        let mut end = from;
        while end < chars.len() && end - from < max && pred(chars[end]) {
            end += 1;
        }
        end
    };
    let semicolon = |end: usize| {
        if chars.get(end) == Some(&';') {
            end + 1
        } else {
            end
        }
    };
    if chars.get(start) == Some(&'#') {
        let dec_end = run(start + 1, &|c| c.is_ascii_digit(), usize::MAX);
        if dec_end > start + 1 {
            let num = parse_saturating(&chars[start + 1..dec_end], 10);
            return Some((semicolon(dec_end), numeric_charref(num)));
        }
        if matches!(chars.get(start + 1), Some('x' | 'X')) {
            let hex_end = run(start + 2, &|c| c.is_ascii_hexdigit(), usize::MAX);
            if hex_end > start + 2 {
                let num = parse_saturating(&chars[start + 2..hex_end], 16);
                return Some((semicolon(hex_end), numeric_charref(num)));
            }
        }
        return None;
    }
    let name_end = run(start, &|c| !"\t\n\x0c <&#;".contains(c), 32);
    if name_end == start {
        return None;
    }
    let end = semicolon(name_end);
    let name: String = chars[start..end].iter().collect();
    if let Some(value) = entity(&name) {
        return Some((end, value.to_string()));
    }
    // The longest prefix (at least 2 characters) that is an entity.
    let name_chars = &chars[start..end];
    for x in (2..name_chars.len()).rev() {
        let prefix: String = name_chars[..x].iter().collect();
        if let Some(value) = entity(&prefix) {
            let rest: String = name_chars[x..].iter().collect();
            return Some((end, format!("{value}{rest}")));
        }
    }
    Some((end, format!("&{name}")))
}

fn entity(name: &str) -> Option<&'static str> {
    let key = format!("&{name}");
    htmlize::ENTITIES
        .get(key.as_bytes())
        .and_then(|v| std::str::from_utf8(v).ok())
}

/// Python `int(digits, base)`, saturating far above the Unicode range.
fn parse_saturating(digits: &[char], base: u32) -> u64 {
    digits.iter().fold(0u64, |acc, d| {
        acc.saturating_mul(base as u64)
            .saturating_add(d.to_digit(base).unwrap_or(0) as u64)
            .min(u32::MAX as u64 + 1)
    })
}

/// `html._replace_charref` for a numeric reference.
fn numeric_charref(num: u64) -> String {
    if let Some(c) = invalid_charref(num) {
        return c.to_string();
    }
    if (0xD800..=0xDFFF).contains(&num) || num > 0x10FFFF {
        return '\u{FFFD}'.to_string();
    }
    let invalid_codepoint = matches!(num, 0x1..=0x8 | 0xB | 0xE..=0x1F | 0x7F..=0x9F | 0xFDD0..=0xFDEF)
        || (num & 0xFFFE) == 0xFFFE;
    if invalid_codepoint {
        return String::new();
    }
    char::from_u32(num as u32)
        .map(String::from)
        .unwrap_or_default()
}

/// `html._invalid_charrefs`.
fn invalid_charref(num: u64) -> Option<char> {
    Some(match num {
        0x00 => '\u{FFFD}',
        0x0D => '\r',
        0x80 => '\u{20AC}',
        0x81 => '\u{81}',
        0x82 => '\u{201A}',
        0x83 => '\u{0192}',
        0x84 => '\u{201E}',
        0x85 => '\u{2026}',
        0x86 => '\u{2020}',
        0x87 => '\u{2021}',
        0x88 => '\u{02C6}',
        0x89 => '\u{2030}',
        0x8A => '\u{0160}',
        0x8B => '\u{2039}',
        0x8C => '\u{0152}',
        0x8D => '\u{8D}',
        0x8E => '\u{017D}',
        0x8F => '\u{8F}',
        0x90 => '\u{90}',
        0x91 => '\u{2018}',
        0x92 => '\u{2019}',
        0x93 => '\u{201C}',
        0x94 => '\u{201D}',
        0x95 => '\u{2022}',
        0x96 => '\u{2013}',
        0x97 => '\u{2014}',
        0x98 => '\u{02DC}',
        0x99 => '\u{2122}',
        0x9A => '\u{0161}',
        0x9B => '\u{203A}',
        0x9C => '\u{0153}',
        0x9D => '\u{9D}',
        0x9E => '\u{017E}',
        0x9F => '\u{0178}',
        _ => return None,
    })
}

/// Code point ranges (inclusive) for which Python 3.12.1 (Unicode 15.0.0)
/// `str.isprintable()` is false: categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs
/// except U+0020. Generated from CPython itself, because no Rust crate pins
/// Unicode 15.0 (`unicode-properties` is on 18.0).
#[rustfmt::skip]
const NON_PRINTABLE_PY312: &[(u32, u32)] = &[
    (0x0, 0x1f), (0x7f, 0xa0), (0xad, 0xad), (0x378, 0x379), (0x380, 0x383), (0x38b, 0x38b),
    (0x38d, 0x38d), (0x3a2, 0x3a2), (0x530, 0x530), (0x557, 0x558), (0x58b, 0x58c), (0x590, 0x590),
    (0x5c8, 0x5cf), (0x5eb, 0x5ee), (0x5f5, 0x605), (0x61c, 0x61c), (0x6dd, 0x6dd), (0x70e, 0x70f),
    (0x74b, 0x74c), (0x7b2, 0x7bf), (0x7fb, 0x7fc), (0x82e, 0x82f), (0x83f, 0x83f), (0x85c, 0x85d),
    (0x85f, 0x85f), (0x86b, 0x86f), (0x88f, 0x897), (0x8e2, 0x8e2), (0x984, 0x984), (0x98d, 0x98e),
    (0x991, 0x992), (0x9a9, 0x9a9), (0x9b1, 0x9b1), (0x9b3, 0x9b5), (0x9ba, 0x9bb), (0x9c5, 0x9c6),
    (0x9c9, 0x9ca), (0x9cf, 0x9d6), (0x9d8, 0x9db), (0x9de, 0x9de), (0x9e4, 0x9e5), (0x9ff, 0xa00),
    (0xa04, 0xa04), (0xa0b, 0xa0e), (0xa11, 0xa12), (0xa29, 0xa29), (0xa31, 0xa31), (0xa34, 0xa34),
    (0xa37, 0xa37), (0xa3a, 0xa3b), (0xa3d, 0xa3d), (0xa43, 0xa46), (0xa49, 0xa4a), (0xa4e, 0xa50),
    (0xa52, 0xa58), (0xa5d, 0xa5d), (0xa5f, 0xa65), (0xa77, 0xa80), (0xa84, 0xa84), (0xa8e, 0xa8e),
    (0xa92, 0xa92), (0xaa9, 0xaa9), (0xab1, 0xab1), (0xab4, 0xab4), (0xaba, 0xabb), (0xac6, 0xac6),
    (0xaca, 0xaca), (0xace, 0xacf), (0xad1, 0xadf), (0xae4, 0xae5), (0xaf2, 0xaf8), (0xb00, 0xb00),
    (0xb04, 0xb04), (0xb0d, 0xb0e), (0xb11, 0xb12), (0xb29, 0xb29), (0xb31, 0xb31), (0xb34, 0xb34),
    (0xb3a, 0xb3b), (0xb45, 0xb46), (0xb49, 0xb4a), (0xb4e, 0xb54), (0xb58, 0xb5b), (0xb5e, 0xb5e),
    (0xb64, 0xb65), (0xb78, 0xb81), (0xb84, 0xb84), (0xb8b, 0xb8d), (0xb91, 0xb91), (0xb96, 0xb98),
    (0xb9b, 0xb9b), (0xb9d, 0xb9d), (0xba0, 0xba2), (0xba5, 0xba7), (0xbab, 0xbad), (0xbba, 0xbbd),
    (0xbc3, 0xbc5), (0xbc9, 0xbc9), (0xbce, 0xbcf), (0xbd1, 0xbd6), (0xbd8, 0xbe5), (0xbfb, 0xbff),
    (0xc0d, 0xc0d), (0xc11, 0xc11), (0xc29, 0xc29), (0xc3a, 0xc3b), (0xc45, 0xc45), (0xc49, 0xc49),
    (0xc4e, 0xc54), (0xc57, 0xc57), (0xc5b, 0xc5c), (0xc5e, 0xc5f), (0xc64, 0xc65), (0xc70, 0xc76),
    (0xc8d, 0xc8d), (0xc91, 0xc91), (0xca9, 0xca9), (0xcb4, 0xcb4), (0xcba, 0xcbb), (0xcc5, 0xcc5),
    (0xcc9, 0xcc9), (0xcce, 0xcd4), (0xcd7, 0xcdc), (0xcdf, 0xcdf), (0xce4, 0xce5), (0xcf0, 0xcf0),
    (0xcf4, 0xcff), (0xd0d, 0xd0d), (0xd11, 0xd11), (0xd45, 0xd45), (0xd49, 0xd49), (0xd50, 0xd53),
    (0xd64, 0xd65), (0xd80, 0xd80), (0xd84, 0xd84), (0xd97, 0xd99), (0xdb2, 0xdb2), (0xdbc, 0xdbc),
    (0xdbe, 0xdbf), (0xdc7, 0xdc9), (0xdcb, 0xdce), (0xdd5, 0xdd5), (0xdd7, 0xdd7), (0xde0, 0xde5),
    (0xdf0, 0xdf1), (0xdf5, 0xe00), (0xe3b, 0xe3e), (0xe5c, 0xe80), (0xe83, 0xe83), (0xe85, 0xe85),
    (0xe8b, 0xe8b), (0xea4, 0xea4), (0xea6, 0xea6), (0xebe, 0xebf), (0xec5, 0xec5), (0xec7, 0xec7),
    (0xecf, 0xecf), (0xeda, 0xedb), (0xee0, 0xeff), (0xf48, 0xf48), (0xf6d, 0xf70), (0xf98, 0xf98),
    (0xfbd, 0xfbd), (0xfcd, 0xfcd), (0xfdb, 0xfff), (0x10c6, 0x10c6), (0x10c8, 0x10cc), (0x10ce, 0x10cf),
    (0x1249, 0x1249), (0x124e, 0x124f), (0x1257, 0x1257), (0x1259, 0x1259), (0x125e, 0x125f), (0x1289, 0x1289),
    (0x128e, 0x128f), (0x12b1, 0x12b1), (0x12b6, 0x12b7), (0x12bf, 0x12bf), (0x12c1, 0x12c1), (0x12c6, 0x12c7),
    (0x12d7, 0x12d7), (0x1311, 0x1311), (0x1316, 0x1317), (0x135b, 0x135c), (0x137d, 0x137f), (0x139a, 0x139f),
    (0x13f6, 0x13f7), (0x13fe, 0x13ff), (0x1680, 0x1680), (0x169d, 0x169f), (0x16f9, 0x16ff), (0x1716, 0x171e),
    (0x1737, 0x173f), (0x1754, 0x175f), (0x176d, 0x176d), (0x1771, 0x1771), (0x1774, 0x177f), (0x17de, 0x17df),
    (0x17ea, 0x17ef), (0x17fa, 0x17ff), (0x180e, 0x180e), (0x181a, 0x181f), (0x1879, 0x187f), (0x18ab, 0x18af),
    (0x18f6, 0x18ff), (0x191f, 0x191f), (0x192c, 0x192f), (0x193c, 0x193f), (0x1941, 0x1943), (0x196e, 0x196f),
    (0x1975, 0x197f), (0x19ac, 0x19af), (0x19ca, 0x19cf), (0x19db, 0x19dd), (0x1a1c, 0x1a1d), (0x1a5f, 0x1a5f),
    (0x1a7d, 0x1a7e), (0x1a8a, 0x1a8f), (0x1a9a, 0x1a9f), (0x1aae, 0x1aaf), (0x1acf, 0x1aff), (0x1b4d, 0x1b4f),
    (0x1b7f, 0x1b7f), (0x1bf4, 0x1bfb), (0x1c38, 0x1c3a), (0x1c4a, 0x1c4c), (0x1c89, 0x1c8f), (0x1cbb, 0x1cbc),
    (0x1cc8, 0x1ccf), (0x1cfb, 0x1cff), (0x1f16, 0x1f17), (0x1f1e, 0x1f1f), (0x1f46, 0x1f47), (0x1f4e, 0x1f4f),
    (0x1f58, 0x1f58), (0x1f5a, 0x1f5a), (0x1f5c, 0x1f5c), (0x1f5e, 0x1f5e), (0x1f7e, 0x1f7f), (0x1fb5, 0x1fb5),
    (0x1fc5, 0x1fc5), (0x1fd4, 0x1fd5), (0x1fdc, 0x1fdc), (0x1ff0, 0x1ff1), (0x1ff5, 0x1ff5), (0x1fff, 0x200f),
    (0x2028, 0x202f), (0x205f, 0x206f), (0x2072, 0x2073), (0x208f, 0x208f), (0x209d, 0x209f), (0x20c1, 0x20cf),
    (0x20f1, 0x20ff), (0x218c, 0x218f), (0x2427, 0x243f), (0x244b, 0x245f), (0x2b74, 0x2b75), (0x2b96, 0x2b96),
    (0x2cf4, 0x2cf8), (0x2d26, 0x2d26), (0x2d28, 0x2d2c), (0x2d2e, 0x2d2f), (0x2d68, 0x2d6e), (0x2d71, 0x2d7e),
    (0x2d97, 0x2d9f), (0x2da7, 0x2da7), (0x2daf, 0x2daf), (0x2db7, 0x2db7), (0x2dbf, 0x2dbf), (0x2dc7, 0x2dc7),
    (0x2dcf, 0x2dcf), (0x2dd7, 0x2dd7), (0x2ddf, 0x2ddf), (0x2e5e, 0x2e7f), (0x2e9a, 0x2e9a), (0x2ef4, 0x2eff),
    (0x2fd6, 0x2fef), (0x2ffc, 0x3000), (0x3040, 0x3040), (0x3097, 0x3098), (0x3100, 0x3104), (0x3130, 0x3130),
    (0x318f, 0x318f), (0x31e4, 0x31ef), (0x321f, 0x321f), (0xa48d, 0xa48f), (0xa4c7, 0xa4cf), (0xa62c, 0xa63f),
    (0xa6f8, 0xa6ff), (0xa7cb, 0xa7cf), (0xa7d2, 0xa7d2), (0xa7d4, 0xa7d4), (0xa7da, 0xa7f1), (0xa82d, 0xa82f),
    (0xa83a, 0xa83f), (0xa878, 0xa87f), (0xa8c6, 0xa8cd), (0xa8da, 0xa8df), (0xa954, 0xa95e), (0xa97d, 0xa97f),
    (0xa9ce, 0xa9ce), (0xa9da, 0xa9dd), (0xa9ff, 0xa9ff), (0xaa37, 0xaa3f), (0xaa4e, 0xaa4f), (0xaa5a, 0xaa5b),
    (0xaac3, 0xaada), (0xaaf7, 0xab00), (0xab07, 0xab08), (0xab0f, 0xab10), (0xab17, 0xab1f), (0xab27, 0xab27),
    (0xab2f, 0xab2f), (0xab6c, 0xab6f), (0xabee, 0xabef), (0xabfa, 0xabff), (0xd7a4, 0xd7af), (0xd7c7, 0xd7ca),
    (0xd7fc, 0xf8ff), (0xfa6e, 0xfa6f), (0xfada, 0xfaff), (0xfb07, 0xfb12), (0xfb18, 0xfb1c), (0xfb37, 0xfb37),
    (0xfb3d, 0xfb3d), (0xfb3f, 0xfb3f), (0xfb42, 0xfb42), (0xfb45, 0xfb45), (0xfbc3, 0xfbd2), (0xfd90, 0xfd91),
    (0xfdc8, 0xfdce), (0xfdd0, 0xfdef), (0xfe1a, 0xfe1f), (0xfe53, 0xfe53), (0xfe67, 0xfe67), (0xfe6c, 0xfe6f),
    (0xfe75, 0xfe75), (0xfefd, 0xff00), (0xffbf, 0xffc1), (0xffc8, 0xffc9), (0xffd0, 0xffd1), (0xffd8, 0xffd9),
    (0xffdd, 0xffdf), (0xffe7, 0xffe7), (0xffef, 0xfffb), (0xfffe, 0xffff), (0x1000c, 0x1000c), (0x10027, 0x10027),
    (0x1003b, 0x1003b), (0x1003e, 0x1003e), (0x1004e, 0x1004f), (0x1005e, 0x1007f), (0x100fb, 0x100ff), (0x10103, 0x10106),
    (0x10134, 0x10136), (0x1018f, 0x1018f), (0x1019d, 0x1019f), (0x101a1, 0x101cf), (0x101fe, 0x1027f), (0x1029d, 0x1029f),
    (0x102d1, 0x102df), (0x102fc, 0x102ff), (0x10324, 0x1032c), (0x1034b, 0x1034f), (0x1037b, 0x1037f), (0x1039e, 0x1039e),
    (0x103c4, 0x103c7), (0x103d6, 0x103ff), (0x1049e, 0x1049f), (0x104aa, 0x104af), (0x104d4, 0x104d7), (0x104fc, 0x104ff),
    (0x10528, 0x1052f), (0x10564, 0x1056e), (0x1057b, 0x1057b), (0x1058b, 0x1058b), (0x10593, 0x10593), (0x10596, 0x10596),
    (0x105a2, 0x105a2), (0x105b2, 0x105b2), (0x105ba, 0x105ba), (0x105bd, 0x105ff), (0x10737, 0x1073f), (0x10756, 0x1075f),
    (0x10768, 0x1077f), (0x10786, 0x10786), (0x107b1, 0x107b1), (0x107bb, 0x107ff), (0x10806, 0x10807), (0x10809, 0x10809),
    (0x10836, 0x10836), (0x10839, 0x1083b), (0x1083d, 0x1083e), (0x10856, 0x10856), (0x1089f, 0x108a6), (0x108b0, 0x108df),
    (0x108f3, 0x108f3), (0x108f6, 0x108fa), (0x1091c, 0x1091e), (0x1093a, 0x1093e), (0x10940, 0x1097f), (0x109b8, 0x109bb),
    (0x109d0, 0x109d1), (0x10a04, 0x10a04), (0x10a07, 0x10a0b), (0x10a14, 0x10a14), (0x10a18, 0x10a18), (0x10a36, 0x10a37),
    (0x10a3b, 0x10a3e), (0x10a49, 0x10a4f), (0x10a59, 0x10a5f), (0x10aa0, 0x10abf), (0x10ae7, 0x10aea), (0x10af7, 0x10aff),
    (0x10b36, 0x10b38), (0x10b56, 0x10b57), (0x10b73, 0x10b77), (0x10b92, 0x10b98), (0x10b9d, 0x10ba8), (0x10bb0, 0x10bff),
    (0x10c49, 0x10c7f), (0x10cb3, 0x10cbf), (0x10cf3, 0x10cf9), (0x10d28, 0x10d2f), (0x10d3a, 0x10e5f), (0x10e7f, 0x10e7f),
    (0x10eaa, 0x10eaa), (0x10eae, 0x10eaf), (0x10eb2, 0x10efc), (0x10f28, 0x10f2f), (0x10f5a, 0x10f6f), (0x10f8a, 0x10faf),
    (0x10fcc, 0x10fdf), (0x10ff7, 0x10fff), (0x1104e, 0x11051), (0x11076, 0x1107e), (0x110bd, 0x110bd), (0x110c3, 0x110cf),
    (0x110e9, 0x110ef), (0x110fa, 0x110ff), (0x11135, 0x11135), (0x11148, 0x1114f), (0x11177, 0x1117f), (0x111e0, 0x111e0),
    (0x111f5, 0x111ff), (0x11212, 0x11212), (0x11242, 0x1127f), (0x11287, 0x11287), (0x11289, 0x11289), (0x1128e, 0x1128e),
    (0x1129e, 0x1129e), (0x112aa, 0x112af), (0x112eb, 0x112ef), (0x112fa, 0x112ff), (0x11304, 0x11304), (0x1130d, 0x1130e),
    (0x11311, 0x11312), (0x11329, 0x11329), (0x11331, 0x11331), (0x11334, 0x11334), (0x1133a, 0x1133a), (0x11345, 0x11346),
    (0x11349, 0x1134a), (0x1134e, 0x1134f), (0x11351, 0x11356), (0x11358, 0x1135c), (0x11364, 0x11365), (0x1136d, 0x1136f),
    (0x11375, 0x113ff), (0x1145c, 0x1145c), (0x11462, 0x1147f), (0x114c8, 0x114cf), (0x114da, 0x1157f), (0x115b6, 0x115b7),
    (0x115de, 0x115ff), (0x11645, 0x1164f), (0x1165a, 0x1165f), (0x1166d, 0x1167f), (0x116ba, 0x116bf), (0x116ca, 0x116ff),
    (0x1171b, 0x1171c), (0x1172c, 0x1172f), (0x11747, 0x117ff), (0x1183c, 0x1189f), (0x118f3, 0x118fe), (0x11907, 0x11908),
    (0x1190a, 0x1190b), (0x11914, 0x11914), (0x11917, 0x11917), (0x11936, 0x11936), (0x11939, 0x1193a), (0x11947, 0x1194f),
    (0x1195a, 0x1199f), (0x119a8, 0x119a9), (0x119d8, 0x119d9), (0x119e5, 0x119ff), (0x11a48, 0x11a4f), (0x11aa3, 0x11aaf),
    (0x11af9, 0x11aff), (0x11b0a, 0x11bff), (0x11c09, 0x11c09), (0x11c37, 0x11c37), (0x11c46, 0x11c4f), (0x11c6d, 0x11c6f),
    (0x11c90, 0x11c91), (0x11ca8, 0x11ca8), (0x11cb7, 0x11cff), (0x11d07, 0x11d07), (0x11d0a, 0x11d0a), (0x11d37, 0x11d39),
    (0x11d3b, 0x11d3b), (0x11d3e, 0x11d3e), (0x11d48, 0x11d4f), (0x11d5a, 0x11d5f), (0x11d66, 0x11d66), (0x11d69, 0x11d69),
    (0x11d8f, 0x11d8f), (0x11d92, 0x11d92), (0x11d99, 0x11d9f), (0x11daa, 0x11edf), (0x11ef9, 0x11eff), (0x11f11, 0x11f11),
    (0x11f3b, 0x11f3d), (0x11f5a, 0x11faf), (0x11fb1, 0x11fbf), (0x11ff2, 0x11ffe), (0x1239a, 0x123ff), (0x1246f, 0x1246f),
    (0x12475, 0x1247f), (0x12544, 0x12f8f), (0x12ff3, 0x12fff), (0x13430, 0x1343f), (0x13456, 0x143ff), (0x14647, 0x167ff),
    (0x16a39, 0x16a3f), (0x16a5f, 0x16a5f), (0x16a6a, 0x16a6d), (0x16abf, 0x16abf), (0x16aca, 0x16acf), (0x16aee, 0x16aef),
    (0x16af6, 0x16aff), (0x16b46, 0x16b4f), (0x16b5a, 0x16b5a), (0x16b62, 0x16b62), (0x16b78, 0x16b7c), (0x16b90, 0x16e3f),
    (0x16e9b, 0x16eff), (0x16f4b, 0x16f4e), (0x16f88, 0x16f8e), (0x16fa0, 0x16fdf), (0x16fe5, 0x16fef), (0x16ff2, 0x16fff),
    (0x187f8, 0x187ff), (0x18cd6, 0x18cff), (0x18d09, 0x1afef), (0x1aff4, 0x1aff4), (0x1affc, 0x1affc), (0x1afff, 0x1afff),
    (0x1b123, 0x1b131), (0x1b133, 0x1b14f), (0x1b153, 0x1b154), (0x1b156, 0x1b163), (0x1b168, 0x1b16f), (0x1b2fc, 0x1bbff),
    (0x1bc6b, 0x1bc6f), (0x1bc7d, 0x1bc7f), (0x1bc89, 0x1bc8f), (0x1bc9a, 0x1bc9b), (0x1bca0, 0x1ceff), (0x1cf2e, 0x1cf2f),
    (0x1cf47, 0x1cf4f), (0x1cfc4, 0x1cfff), (0x1d0f6, 0x1d0ff), (0x1d127, 0x1d128), (0x1d173, 0x1d17a), (0x1d1eb, 0x1d1ff),
    (0x1d246, 0x1d2bf), (0x1d2d4, 0x1d2df), (0x1d2f4, 0x1d2ff), (0x1d357, 0x1d35f), (0x1d379, 0x1d3ff), (0x1d455, 0x1d455),
    (0x1d49d, 0x1d49d), (0x1d4a0, 0x1d4a1), (0x1d4a3, 0x1d4a4), (0x1d4a7, 0x1d4a8), (0x1d4ad, 0x1d4ad), (0x1d4ba, 0x1d4ba),
    (0x1d4bc, 0x1d4bc), (0x1d4c4, 0x1d4c4), (0x1d506, 0x1d506), (0x1d50b, 0x1d50c), (0x1d515, 0x1d515), (0x1d51d, 0x1d51d),
    (0x1d53a, 0x1d53a), (0x1d53f, 0x1d53f), (0x1d545, 0x1d545), (0x1d547, 0x1d549), (0x1d551, 0x1d551), (0x1d6a6, 0x1d6a7),
    (0x1d7cc, 0x1d7cd), (0x1da8c, 0x1da9a), (0x1daa0, 0x1daa0), (0x1dab0, 0x1deff), (0x1df1f, 0x1df24), (0x1df2b, 0x1dfff),
    (0x1e007, 0x1e007), (0x1e019, 0x1e01a), (0x1e022, 0x1e022), (0x1e025, 0x1e025), (0x1e02b, 0x1e02f), (0x1e06e, 0x1e08e),
    (0x1e090, 0x1e0ff), (0x1e12d, 0x1e12f), (0x1e13e, 0x1e13f), (0x1e14a, 0x1e14d), (0x1e150, 0x1e28f), (0x1e2af, 0x1e2bf),
    (0x1e2fa, 0x1e2fe), (0x1e300, 0x1e4cf), (0x1e4fa, 0x1e7df), (0x1e7e7, 0x1e7e7), (0x1e7ec, 0x1e7ec), (0x1e7ef, 0x1e7ef),
    (0x1e7ff, 0x1e7ff), (0x1e8c5, 0x1e8c6), (0x1e8d7, 0x1e8ff), (0x1e94c, 0x1e94f), (0x1e95a, 0x1e95d), (0x1e960, 0x1ec70),
    (0x1ecb5, 0x1ed00), (0x1ed3e, 0x1edff), (0x1ee04, 0x1ee04), (0x1ee20, 0x1ee20), (0x1ee23, 0x1ee23), (0x1ee25, 0x1ee26),
    (0x1ee28, 0x1ee28), (0x1ee33, 0x1ee33), (0x1ee38, 0x1ee38), (0x1ee3a, 0x1ee3a), (0x1ee3c, 0x1ee41), (0x1ee43, 0x1ee46),
    (0x1ee48, 0x1ee48), (0x1ee4a, 0x1ee4a), (0x1ee4c, 0x1ee4c), (0x1ee50, 0x1ee50), (0x1ee53, 0x1ee53), (0x1ee55, 0x1ee56),
    (0x1ee58, 0x1ee58), (0x1ee5a, 0x1ee5a), (0x1ee5c, 0x1ee5c), (0x1ee5e, 0x1ee5e), (0x1ee60, 0x1ee60), (0x1ee63, 0x1ee63),
    (0x1ee65, 0x1ee66), (0x1ee6b, 0x1ee6b), (0x1ee73, 0x1ee73), (0x1ee78, 0x1ee78), (0x1ee7d, 0x1ee7d), (0x1ee7f, 0x1ee7f),
    (0x1ee8a, 0x1ee8a), (0x1ee9c, 0x1eea0), (0x1eea4, 0x1eea4), (0x1eeaa, 0x1eeaa), (0x1eebc, 0x1eeef), (0x1eef2, 0x1efff),
    (0x1f02c, 0x1f02f), (0x1f094, 0x1f09f), (0x1f0af, 0x1f0b0), (0x1f0c0, 0x1f0c0), (0x1f0d0, 0x1f0d0), (0x1f0f6, 0x1f0ff),
    (0x1f1ae, 0x1f1e5), (0x1f203, 0x1f20f), (0x1f23c, 0x1f23f), (0x1f249, 0x1f24f), (0x1f252, 0x1f25f), (0x1f266, 0x1f2ff),
    (0x1f6d8, 0x1f6db), (0x1f6ed, 0x1f6ef), (0x1f6fd, 0x1f6ff), (0x1f777, 0x1f77a), (0x1f7da, 0x1f7df), (0x1f7ec, 0x1f7ef),
    (0x1f7f1, 0x1f7ff), (0x1f80c, 0x1f80f), (0x1f848, 0x1f84f), (0x1f85a, 0x1f85f), (0x1f888, 0x1f88f), (0x1f8ae, 0x1f8af),
    (0x1f8b2, 0x1f8ff), (0x1fa54, 0x1fa5f), (0x1fa6e, 0x1fa6f), (0x1fa7d, 0x1fa7f), (0x1fa89, 0x1fa8f), (0x1fabe, 0x1fabe),
    (0x1fac6, 0x1facd), (0x1fadc, 0x1fadf), (0x1fae9, 0x1faef), (0x1faf9, 0x1faff), (0x1fb93, 0x1fb93), (0x1fbcb, 0x1fbef),
    (0x1fbfa, 0x1ffff), (0x2a6e0, 0x2a6ff), (0x2b73a, 0x2b73f), (0x2b81e, 0x2b81f), (0x2cea2, 0x2ceaf), (0x2ebe1, 0x2f7ff),
    (0x2fa1e, 0x2ffff), (0x3134b, 0x3134f), (0x323b0, 0xe00ff), (0xe01f0, 0x10ffff),
];

/// Code points assigned in Unicode 15.0, so still non-printable for Python
/// 3.11.7 (Unicode 14.0.0, the interpreter the 4.2 reference ran on).
#[rustfmt::skip]
const NEW_IN_UNICODE_15: &[(u32, u32)] = &[
    (0xcf3, 0xcf3), (0xece, 0xece), (0x10efd, 0x10eff), (0x1123f, 0x11241), (0x11b00, 0x11b09), (0x11f00, 0x11f10),
    (0x11f12, 0x11f3a), (0x11f3e, 0x11f59), (0x1342f, 0x1342f), (0x13440, 0x13455), (0x1b132, 0x1b132), (0x1b155, 0x1b155),
    (0x1d2c0, 0x1d2d3), (0x1df25, 0x1df2a), (0x1e030, 0x1e06d), (0x1e08f, 0x1e08f), (0x1e4d0, 0x1e4f9), (0x1f6dc, 0x1f6dc),
    (0x1f774, 0x1f776), (0x1f77b, 0x1f77f), (0x1f7d9, 0x1f7d9), (0x1fa75, 0x1fa77), (0x1fa87, 0x1fa88), (0x1faad, 0x1faaf),
    (0x1fabb, 0x1fabd), (0x1fabf, 0x1fabf), (0x1face, 0x1facf), (0x1fada, 0x1fadb), (0x1fae8, 0x1fae8), (0x1faf7, 0x1faf8),
    (0x2b739, 0x2b739), (0x31350, 0x323af),
];

#[cfg(test)]
mod tests {
    use super::*;
    use DjangoVersion::*;

    /// `(raw filename, 3.2, 4.2, 5.2 and 6.0)`. Expected values:
    /// `SimpleUploadedFile(MultiPartParser.sanitize_file_name(None, raw), b"").name`
    /// (`None` where sanitize_file_name rejects the name) in Django 3.2.25
    /// (Python 3.10.13), 4.2.30 (Python 3.11.7) and 5.2.19 (Python 3.12.1).
    type Case = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );

    #[rustfmt::skip]
    const CASES: &[Case] = &[
            ("C:\\Users\\x\\My &amp; file\u{1}.txt", Some("My & file\u{1}.txt"), Some("My & file.txt"), Some("My & file.txt")),
            ("report.txt", Some("report.txt"), Some("report.txt"), Some("report.txt")),
            ("a/b/c.txt", Some("c.txt"), Some("c.txt"), Some("c.txt")),
            ("a\\b\\c.txt", Some("c.txt"), Some("c.txt"), Some("c.txt")),
            ("dir/sub\\x.txt", Some("x.txt"), Some("x.txt"), Some("x.txt")),
            ("..", None, None, None),
            (".", None, None, None),
            ("", None, None, None),
            ("a/..", None, None, None),
            ("a\\.", None, None, None),
            ("/", None, None, None),
            ("x/", None, None, None),
            ("&#46;&#46;", None, None, None),
            ("tab\u{9}here.txt", Some("tab\u{9}here.txt"), Some("tabhere.txt"), Some("tabhere.txt")),
            ("del\u{7f}.txt", Some("del\u{7f}.txt"), Some("del.txt"), Some("del.txt")),
            ("nbsp\u{a0}.txt", Some("nbsp\u{a0}.txt"), Some("nbsp.txt"), Some("nbsp.txt")),
            ("zw\u{200b}sp.txt", Some("zw\u{200b}sp.txt"), Some("zwsp.txt"), Some("zwsp.txt")),
            ("sp ace.txt", Some("sp ace.txt"), Some("sp ace.txt"), Some("sp ace.txt")),
            ("line\u{2028}sep", Some("line\u{2028}sep"), Some("linesep"), Some("linesep")),
            ("\u{1}", Some("\u{1}"), None, None),
            ("\u{1}..", Some("\u{1}.."), None, None),
            (".\u{1}", Some(".\u{1}"), None, None),
            ("caf\u{e9} \u{65e5}\u{672c} \u{1f600}.txt", Some("caf\u{e9} \u{65e5}\u{672c} \u{1f600}.txt"), Some("caf\u{e9} \u{65e5}\u{672c} \u{1f600}.txt"), Some("caf\u{e9} \u{65e5}\u{672c} \u{1f600}.txt")),
            ("&lt;b&gt;&quot;&#39;&#x41;&#65;", Some("<b>\"'AA"), Some("<b>\"'AA"), Some("<b>\"'AA")),
            ("&amp", Some("&"), Some("&"), Some("&")),
            ("&ampx;", Some("&x;"), Some("&x;"), Some("&x;")),
            ("&notit;", Some("\u{ac}it;"), Some("\u{ac}it;"), Some("\u{ac}it;")),
            ("&notin;", Some("\u{2209}"), Some("\u{2209}"), Some("\u{2209}")),
            ("&#0;", Some("\u{fffd}"), Some("\u{fffd}"), Some("\u{fffd}")),
            ("&#1;x", Some("x"), Some("x"), Some("x")),
            ("&#x7f;y", Some("y"), Some("y"), Some("y")),
            ("&#x80;&#x81;&#128;", Some("\u{20ac}\u{81}\u{20ac}"), Some("\u{20ac}\u{20ac}"), Some("\u{20ac}\u{20ac}")),
            ("&#xD800;", Some("\u{fffd}"), Some("\u{fffd}"), Some("\u{fffd}")),
            ("&#x110000;", Some("\u{fffd}"), Some("\u{fffd}"), Some("\u{fffd}")),
            ("&#99999999999999999999;", Some("\u{fffd}"), Some("\u{fffd}"), Some("\u{fffd}")),
            ("&#xFDD0;&#xFFFE;&#x10FFFF;", None, None, None),
            ("&#13;", Some("\u{d}"), None, None),
            ("&#12;", Some("\u{c}"), None, None),
            ("&#;&#x;&#xg;", Some("&#;&#x;&#xg;"), Some("&#;&#x;&#xg;"), Some("&#;&#x;&#xg;")),
            ("&Amp;", Some("&Amp;"), Some("&Amp;"), Some("&Amp;")),
            ("&a-b;", Some("&a-b;"), Some("&a-b;"), Some("&a-b;")),
            ("&lt", Some("<"), Some("<"), Some("<")),
            ("&ltx", Some("<x"), Some("<x"), Some("<x")),
            ("&LT;&GT", Some("<>"), Some("<>"), Some("<>")),
            ("&#0065;", Some("A"), Some("A"), Some("A")),
            ("&#x00041", Some("A"), Some("A"), Some("A")),
            ("&&amp;&", Some("&&&"), Some("&&&"), Some("&&&")),
            ("& amp;", Some("& amp;"), Some("& amp;"), Some("& amp;")),
            ("&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;", Some("&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"), Some("&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"), Some("&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;")),
            ("&ltbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Some("<bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), Some("<bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), Some("<bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")),
            ("&#12a", Some("\u{c}a"), Some("a"), Some("a")),
            ("&eacute;t&eacute;.txt", Some("\u{e9}t\u{e9}.txt"), Some("\u{e9}t\u{e9}.txt"), Some("\u{e9}t\u{e9}.txt")),
            ("&eacutex", Some("\u{e9}x"), Some("\u{e9}x"), Some("\u{e9}x")),
            ("&frac12;&frac12", Some("\u{bd}\u{bd}"), Some("\u{bd}\u{bd}"), Some("\u{bd}\u{bd}")),
            ("&\u{e9};", Some("&\u{e9};"), Some("&\u{e9};"), Some("&\u{e9};")),
            ("&amp;lt;", Some("&lt;"), Some("&lt;"), Some("&lt;")),
            ("&sup2;&sup23", Some("\u{b2}\u{b2}3"), Some("\u{b2}\u{b2}3"), Some("\u{b2}\u{b2}3")),
            ("a&#47;b", Some("b"), Some("b"), Some("b")),
            ("a&#92;b", Some("b"), Some("b"), Some("b")),
            ("\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}", Some("\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}"), Some("\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}"), Some("\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}")),
            ("\u{e000}private.txt", Some("\u{e000}private.txt"), Some("private.txt"), Some("private.txt")),
            ("\u{e0001}tag.txt", Some("\u{e0001}tag.txt"), Some("tag.txt"), Some("tag.txt")),
            ("\u{cf3}kannada.txt", Some("\u{cf3}kannada.txt"), Some("kannada.txt"), Some("\u{cf3}kannada.txt")),
            ("\u{1fa75}new.txt", Some("\u{1fa75}new.txt"), Some("new.txt"), Some("\u{1fa75}new.txt")),
            ("\u{378}unassigned", Some("\u{378}unassigned"), Some("unassigned"), Some("unassigned")),
    ];

    #[test]
    fn django_filename_vectors() {
        for &(raw, v32, v42, v52) in CASES {
            assert_eq!(sanitize(raw, V3_2).as_deref(), v32, "3.2 {raw:?}");
            assert_eq!(sanitize(raw, V4_2).as_deref(), v42, "4.2 {raw:?}");
            assert_eq!(sanitize(raw, V5_2).as_deref(), v52, "5.2 {raw:?}");
            assert_eq!(sanitize(raw, V6_0).as_deref(), v52, "6.0 {raw:?}");
        }
    }

    #[test]
    fn long_names_keep_the_extension() {
        // Same Django calls as above; identical in 3.2.25, 4.2.30 and 5.2.19.
        let cases = [
            ("a".repeat(296) + ".txt", "a".repeat(251) + ".txt"),
            ("a".repeat(255), "a".repeat(255)),
            ("a".repeat(256), "a".repeat(255)),
            // Only an "extension" (a leading dot is part of the root).
            (
                ".".to_string() + &"e".repeat(300),
                ".".to_string() + &"e".repeat(254),
            ),
            // An extension longer than 255: ext[:255], nothing of the root.
            (
                "x.".to_string() + &"e".repeat(300),
                ".".to_string() + &"e".repeat(254),
            ),
            (".".repeat(300), ".".repeat(255)),
            (
                "b".repeat(250) + "." + &"c".repeat(10),
                "b".repeat(244) + "." + &"c".repeat(10),
            ),
            ("\u{e9}".repeat(300) + ".txt", "\u{e9}".repeat(251) + ".txt"),
            ("a".repeat(300) + ".tar.gz", "a".repeat(252) + ".gz"),
            (
                "...a".to_string() + &"x".repeat(300),
                "...a".to_string() + &"x".repeat(251),
            ),
            (
                "a".repeat(100) + "." + &"b".repeat(200),
                "a".repeat(54) + "." + &"b".repeat(200),
            ),
        ];
        for (raw, expected) in cases {
            for v in [V3_2, V4_2, V5_2, V6_0] {
                assert_eq!(
                    sanitize(&raw, v).as_deref(),
                    Some(expected.as_str()),
                    "{v} {raw:?}"
                );
            }
            assert_eq!(expected.chars().count().min(255), expected.chars().count());
        }
    }

    #[test]
    fn printable_table_spot_checks() {
        // str.isprintable() in Python 3.12.1 / 3.11.7.
        for c in [
            ' ',
            'a',
            '~',
            '\u{e9}',
            '\u{65e5}',
            '\u{1F600}',
            '\u{cf3}',
            '\u{1FA75}',
        ] {
            assert!(is_printable(c, V5_2), "{c:?}");
        }
        for c in [
            '\0',
            '\t',
            '\u{7f}',
            '\u{a0}',
            '\u{ad}',
            '\u{200b}',
            '\u{2028}',
            '\u{3000}',
            '\u{e000}',
            '\u{e0001}',
            '\u{378}',
            '\u{10ffff}',
        ] {
            assert!(!is_printable(c, V5_2), "{c:?}");
        }
        assert!(!is_printable('\u{cf3}', V4_2));
        assert!(!is_printable('\u{1FA75}', V4_2));
        assert!(is_printable('\u{1F600}', V4_2));
        // Sorted, non-overlapping ranges.
        for table in [NON_PRINTABLE_PY312, NEW_IN_UNICODE_15] {
            assert!(table.windows(2).all(|w| w[0].1 < w[1].0));
        }
    }

    #[test]
    fn python_html_unescape() {
        // html.unescape(s) in Python 3.12.1 (3.10.13 agrees).
        assert_eq!(html_unescape("no entities"), "no entities");
        assert_eq!(html_unescape("&amp;&lt;&gt;&quot;&#39;"), "&<>\"'");
        assert_eq!(html_unescape("&notit; &notin;"), "\u{ac}it; \u{2209}");
        assert_eq!(html_unescape("&#1;&#x7f;&#xfdd0;&#x1fffe;"), "");
        assert_eq!(
            html_unescape("&#x81;&#0;&#xd800;&#x110000;"),
            "\u{81}\u{fffd}\u{fffd}\u{fffd}"
        );
        assert_eq!(html_unescape("&#13;&#12;&#9;"), "\r\u{c}\t");
    }
}
