//! CSRF token format, masking and comparison (`django/middleware/csrf.py`).

use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use subtle::ConstantTimeEq;

pub const CSRF_SECRET_LENGTH: usize = 32;
pub const CSRF_TOKEN_LENGTH: usize = 64;
/// Note: not the base62 alphabet of signing (lower case first here).
pub const CSRF_ALLOWED_CHARS: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Why a token failed 4.2+ `_check_token_format` (the logged reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFormatError {
    /// `REASON_INCORRECT_LENGTH`: "has incorrect length."
    IncorrectLength,
    /// `REASON_INVALID_CHARACTERS`: "has invalid characters."
    InvalidCharacters,
}

/// 4.2+ `_check_token_format`. The length is Python's `len()`, i.e. counted
/// in code points, and is checked before the characters.
pub fn check_token_format(token: &str) -> Result<(), TokenFormatError> {
    let len = token.chars().count();
    if len != CSRF_TOKEN_LENGTH && len != CSRF_SECRET_LENGTH {
        return Err(TokenFormatError::IncorrectLength);
    }
    if !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(TokenFormatError::InvalidCharacters);
    }
    Ok(())
}

/// Length 32 or 64 and only `CSRF_ALLOWED_CHARS` (4.2+ `_check_token_format`).
pub fn is_well_formed(token: &str) -> bool {
    check_token_format(token).is_ok()
}

fn index(c: u8) -> Option<usize> {
    CSRF_ALLOWED_CHARS.bytes().position(|a| a == c)
}

/// A character outside the alphabet: `str.index` raises ValueError.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnmaskError;

/// 3.2 `_unmask_cipher_token` on a token nobody checked (the session's,
/// with CSRF_USE_SESSIONS): Python's `zip` stops at the shorter of the
/// cipher (`token[32:]`) and the mask, and `str.index` raises on a character
/// outside the alphabet (`Err`: the exception escapes Django).
pub fn unmask_unchecked_3_2(token: &str) -> Result<String, UnmaskError> {
    let chars: Vec<char> = token.chars().collect();
    let (mask, cipher) = chars.split_at(chars.len().min(CSRF_SECRET_LENGTH));
    let alphabet = CSRF_ALLOWED_CHARS.as_bytes();
    let pos = |c: char| u8::try_from(c).ok().and_then(index).ok_or(UnmaskError);
    let mut secret = String::new();
    for (i, &c) in cipher.iter().enumerate() {
        let x = pos(c)?;
        let Some(&m) = mask.get(i) else { break };
        let y = pos(m)?;
        secret.push(alphabet[(x + alphabet.len() - y) % alphabet.len()] as char);
    }
    Ok(secret)
}

/// 4.2+ with CSRF_USE_SESSIONS: a 64-character session token is unmasked
/// unchecked; a character outside the alphabet raises (`Err`).
pub fn unmask_unchecked(token: &str) -> Result<String, UnmaskError> {
    if token.bytes().all(|b| index(b).is_some()) {
        Ok(unmask(token))
    } else {
        Err(UnmaskError)
    }
}

/// `_unmask_cipher_token`: 64-char masked token → 32-char secret.
///
/// Returns an empty string (which matches no secret) if the token is not 64
/// allowed characters, where Django would raise `ValueError`.
pub fn unmask(token: &str) -> String {
    let bytes = token.as_bytes();
    if bytes.len() != CSRF_TOKEN_LENGTH {
        return String::new();
    }
    let (mask, cipher) = bytes.split_at(CSRF_SECRET_LENGTH);
    let chars = CSRF_ALLOWED_CHARS.as_bytes();
    let mut secret = String::with_capacity(CSRF_SECRET_LENGTH);
    for (&c, &m) in cipher.iter().zip(mask) {
        let (Some(x), Some(y)) = (index(c), index(m)) else {
            return String::new();
        };
        secret.push(chars[(x + chars.len() - y) % chars.len()] as char);
    }
    secret
}

/// `_mask_cipher_secret` with a given mask (for tests) .
///
/// Both are expected to be 32 allowed characters; a character outside the
/// alphabet counts as index 0.
pub fn mask_with(secret: &str, mask: &str) -> String {
    let chars = CSRF_ALLOWED_CHARS.as_bytes();
    let cipher: String = secret
        .bytes()
        .zip(mask.bytes())
        .map(|(s, m)| {
            let sum = index(s).unwrap_or(0) + index(m).unwrap_or(0);
            chars[sum % chars.len()] as char
        })
        .collect();
    format!("{mask}{cipher}")
}

/// `_mask_cipher_secret` with a random mask.
pub fn mask(secret: &str) -> String {
    mask_with(secret, &random_secret())
}

/// `_get_new_csrf_string`: 32 random characters from the alphabet.
pub fn random_secret() -> String {
    // get_random_string uses `secrets.choice`, i.e. the OS CSPRNG.
    let chars = CSRF_ALLOWED_CHARS.as_bytes();
    (0..CSRF_SECRET_LENGTH)
        .map(|_| *chars.choose(&mut OsRng).expect("non-empty alphabet") as char)
        .collect()
}

/// 3.2 `_sanitize_token`: non-alphanumeric → None (caller makes a new token);
/// 64 → kept; 32 → masked; other lengths → None.
pub fn sanitize_3_2(token: &str) -> Option<String> {
    if !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match token.len() {
        CSRF_TOKEN_LENGTH => Some(token.to_string()),
        CSRF_SECRET_LENGTH => Some(mask(token)),
        _ => None,
    }
}

/// 4.2+ `_does_token_match(request_token, secret)`: unmask a 64-char token,
/// then compare in constant time. Both are assumed well formed.
pub fn token_matches(request_token: &str, secret: &str) -> bool {
    let unmasked;
    let token = if request_token.len() == CSRF_TOKEN_LENGTH {
        unmasked = unmask(request_token);
        unmasked.as_str()
    } else {
        request_token
    };
    token.len() == CSRF_SECRET_LENGTH && bool::from(token.as_bytes().ct_eq(secret.as_bytes()))
}

/// 3.2 `_compare_masked_tokens(request_token, stored)`: the request token
/// was sanitised (64 valid characters); the stored one is unmasked as is,
/// and `Err` when that raises.
pub fn masked_tokens_match_3_2(request_token: &str, stored: &str) -> Result<bool, UnmaskError> {
    let a = unmask(request_token);
    let b = unmask_unchecked_3_2(stored)?;
    Ok(a.len() == CSRF_SECRET_LENGTH && bool::from(a.as_bytes().ct_eq(b.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "abcdefghijklmnopqrstuvwxyzABCDEF";
    const MASK: &str = "Qx3Lm9PzK2aB7cD0eF5gH8iJ1kN4oR6s";
    // DJANGO_INTERNALS §3.2, re-checked with `_mask_cipher_secret` under a
    // mocked `_get_new_csrf_string` (3.2.25 and 5.2.19).
    const TOKEN: &str = "Qx3Lm9PzK2aB7cD0eF5gH8iJ1kN4oR6sQy5OqeVGSbkMjpRfuWnz1tE6pJdvQkAX";

    #[test]
    fn mask_example() {
        assert_eq!(mask_with(SECRET, MASK), TOKEN);
        assert_eq!(unmask(TOKEN), SECRET);
    }

    #[test]
    fn random_mask_round_trips() {
        for _ in 0..20 {
            let secret = random_secret();
            assert_eq!(secret.len(), 32);
            assert!(is_well_formed(&secret));
            let token = mask(&secret);
            assert_eq!(token.len(), 64);
            assert!(is_well_formed(&token));
            assert_eq!(unmask(&token), secret);
            assert!(token_matches(&token, &secret));
            assert!(token_matches(&secret, &secret));
            assert_eq!(masked_tokens_match_3_2(&token, &mask(&secret)), Ok(true));
        }
    }

    #[test]
    fn format_checks() {
        assert!(is_well_formed(SECRET));
        assert!(is_well_formed(TOKEN));
        assert_eq!(
            check_token_format(""),
            Err(TokenFormatError::IncorrectLength)
        );
        assert_eq!(
            check_token_format("abc"),
            Err(TokenFormatError::IncorrectLength)
        );
        assert_eq!(
            check_token_format(&"a".repeat(33)),
            Err(TokenFormatError::IncorrectLength)
        );
        assert_eq!(
            check_token_format(&format!("{}-", &SECRET[..31])),
            Err(TokenFormatError::InvalidCharacters)
        );
        // 32 code points (Python len) but 33 bytes: the character check fails.
        assert_eq!(
            check_token_format(&format!("{}\u{e9}", &SECRET[..31])),
            Err(TokenFormatError::InvalidCharacters)
        );
    }

    #[test]
    fn matching() {
        assert!(token_matches(TOKEN, SECRET));
        assert!(token_matches(SECRET, SECRET));
        assert!(!token_matches(TOKEN, "bbcdefghijklmnopqrstuvwxyzABCDEF"));
        assert!(!token_matches(&TOKEN.replace('Q', "R"), SECRET));
        assert_eq!(masked_tokens_match_3_2(TOKEN, &mask(SECRET)), Ok(true));
        assert_eq!(
            masked_tokens_match_3_2(TOKEN, &mask("bbcdefghijklmnopqrstuvwxyzABCDEF")),
            Ok(false)
        );
        assert_eq!(masked_tokens_match_3_2("", ""), Ok(false));
        // 3.2 with CSRF_USE_SESSIONS (research p6): zip stops at the mask's
        // end, so extra characters after a masked token still match; a
        // short one never does; a bad character raises.
        assert_eq!(
            masked_tokens_match_3_2(TOKEN, &format!("{TOKEN}abcdef")),
            Ok(true)
        );
        assert_eq!(masked_tokens_match_3_2(TOKEN, "abcdefghij"), Ok(false));
        assert_eq!(
            masked_tokens_match_3_2(TOKEN, &format!("{}-", &TOKEN[..63])),
            Err(UnmaskError)
        );
        assert!(!token_matches("", ""));
        assert_eq!(unmask("short"), "");
        assert_eq!(unmask(&format!("{}-", &TOKEN[..63])), "");
    }

    #[test]
    fn sanitize_32() {
        // _sanitize_token in 3.2.25
        assert_eq!(sanitize_3_2(TOKEN).as_deref(), Some(TOKEN));
        let masked = sanitize_3_2(SECRET).unwrap();
        assert_eq!(masked.len(), 64);
        assert_eq!(unmask(&masked), SECRET);
        assert_eq!(sanitize_3_2(""), None);
        assert_eq!(sanitize_3_2("abc"), None);
        assert_eq!(sanitize_3_2(&"a".repeat(63)), None);
        assert_eq!(sanitize_3_2(&format!("{}!", &TOKEN[..63])), None);
        assert_eq!(sanitize_3_2(&format!("{}\u{e9}", &SECRET[..30])), None);
    }
}
