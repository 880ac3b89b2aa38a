//! `django.utils.timezone` as the views use it: with `USE_TZ=True` times are
//! aware UTC; with `USE_TZ=False` they are naive wall-clock times in
//! `TIME_ZONE`, and arithmetic happens on wall clocks. Django's connection
//! then runs in `TIME_ZONE`, so PostgreSQL stores the same instant we bind
//! as timestamptz (except in the repeated hour of a DST change: README).

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::json::{format_datetime_naive, format_datetime_utc};

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub use_tz: bool,
    pub time_zone: Tz,
}

impl Clock {
    /// The datetime Django holds for the instant `t`.
    pub fn wall(&self, t: DateTime<Utc>) -> NaiveDateTime {
        if self.use_tz {
            t.naive_utc()
        } else {
            t.with_timezone(&self.time_zone).naive_local()
        }
    }

    /// `created_on + delta <= timezone.now()` (`ChunkedUpload.expired`).
    pub fn expired(&self, created_on: DateTime<Utc>, delta: Duration, now: DateTime<Utc>) -> bool {
        self.wall(created_on) + delta <= self.wall(now)
    }

    /// DjangoJSONEncoder of `created_on + delta` (`expires` in the answer).
    pub fn json_after(&self, created_on: DateTime<Utc>, delta: Duration) -> String {
        if self.use_tz {
            format_datetime_utc(&(created_on + delta))
        } else {
            format_datetime_naive(&(self.wall(created_on) + delta))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn naive_times_are_time_zone_wall_clocks() {
        let tokyo = Clock {
            use_tz: false,
            time_zone: "Asia/Tokyo".parse().unwrap(),
        };
        let t = Utc.with_ymd_and_hms(2026, 11, 25, 11, 19, 13).unwrap()
            + Duration::microseconds(659_506);
        // DJANGO_INTERNALS §6.4: stored 20:19:13.659506+09, JSON without suffix.
        assert_eq!(
            tokyo.json_after(t, Duration::days(1)),
            "2026-11-26T20:19:13.659"
        );
        let utc = Clock {
            use_tz: true,
            time_zone: "Asia/Tokyo".parse().unwrap(),
        };
        assert_eq!(
            utc.json_after(t, Duration::days(1)),
            "2026-11-26T11:19:13.659Z"
        );
    }

    #[test]
    fn naive_arithmetic_ignores_dst_changes() {
        // New York leaves DST on 2026-11-01 at 02:00 local: a day of wall
        // clock is 25 hours there.
        let ny = Clock {
            use_tz: false,
            time_zone: "America/New_York".parse().unwrap(),
        };
        let created = Utc.with_ymd_and_hms(2026, 10, 31, 16, 0, 0).unwrap(); // 12:00 EDT
        let after_24h = created + Duration::hours(24); // 11:00 EST
        assert!(!ny.expired(created, Duration::days(1), after_24h));
        assert!(ny.expired(created, Duration::days(1), after_24h + Duration::hours(1)));
    }
}
