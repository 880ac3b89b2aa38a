//! Python's `json.dumps` (ensure_ascii) and `DjangoJSONEncoder`'s datetime format.
//! STUB: interface fixed; implementation pending.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

/// `json.dumps(value)` with Python's defaults: `", "`/`": "` separators
/// (`compact=false`, what DjangoJSONEncoder().encode gives) or `","`/`":"`
/// (`compact=true`, what signing uses), `ensure_ascii=True`, insertion order.
pub fn dumps(_value: &Value, _compact: bool) -> String {
    todo!()
}

/// DjangoJSONEncoder for an aware UTC datetime: isoformat, truncated to
/// milliseconds (no fraction when µs == 0), `+00:00` → `Z`.
pub fn format_datetime_utc(_dt: &DateTime<Utc>) -> String {
    todo!()
}

/// DjangoJSONEncoder for a naive datetime (USE_TZ=False): no suffix.
pub fn format_datetime_naive(_dt: &NaiveDateTime) -> String {
    todo!()
}
