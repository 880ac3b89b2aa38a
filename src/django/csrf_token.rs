//! CSRF token format, masking and comparison (`django/middleware/csrf.py`).
//! STUB: interface fixed; implementation pending.

pub const CSRF_SECRET_LENGTH: usize = 32;
pub const CSRF_TOKEN_LENGTH: usize = 64;
/// Note: not the base62 alphabet of signing (lower case first here).
pub const CSRF_ALLOWED_CHARS: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Length 32 or 64 and only `CSRF_ALLOWED_CHARS` (4.2+ `_check_token_format`).
pub fn is_well_formed(_token: &str) -> bool {
    todo!()
}

/// `_unmask_cipher_token`: 64-char masked token → 32-char secret.
pub fn unmask(_token: &str) -> String {
    todo!()
}

/// `_mask_cipher_secret` with a given mask (for tests) .
pub fn mask_with(_secret: &str, _mask: &str) -> String {
    todo!()
}

/// `_mask_cipher_secret` with a random mask.
pub fn mask(_secret: &str) -> String {
    todo!()
}

/// `_get_new_csrf_string`: 32 random characters from the alphabet.
pub fn random_secret() -> String {
    todo!()
}

/// 3.2 `_sanitize_token`: non-alphanumeric → None (caller makes a new token);
/// 64 → kept; 32 → masked; other lengths → None.
pub fn sanitize_3_2(_token: &str) -> Option<String> {
    todo!()
}

/// 4.2+ `_does_token_match(request_token, secret)`: unmask a 64-char token,
/// then compare in constant time. Both are assumed well formed.
pub fn token_matches(_request_token: &str, _secret: &str) -> bool {
    todo!()
}

/// 3.2 `_compare_masked_tokens`: both 64-char masked; unmask both and compare.
pub fn masked_tokens_match_3_2(_request_token: &str, _cookie_token: &str) -> bool {
    todo!()
}
