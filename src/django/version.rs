//! The Django series whose bytes we reproduce (`DJANGO_VERSION`).

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DjangoVersion {
    V3_2,
    V4_2,
    V5_2,
    V6_0,
    V6_1,
}

impl DjangoVersion {
    /// 4.0 and later send `Cross-Origin-Opener-Policy`, check Origin, and
    /// label HTML error pages with a charset.
    pub fn is_4_or_later(self) -> bool {
        self >= DjangoVersion::V4_2
    }
}

impl FromStr for DjangoVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "3.2" => Ok(Self::V3_2),
            "4.2" => Ok(Self::V4_2),
            "5.2" => Ok(Self::V5_2),
            "6.0" => Ok(Self::V6_0),
            "6.1" => Ok(Self::V6_1),
            other => Err(format!(
                "unsupported Django series {other:?} (3.2, 4.2, 5.2, 6.0 or 6.1)"
            )),
        }
    }
}

impl fmt::Display for DjangoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V3_2 => "3.2",
            Self::V4_2 => "4.2",
            Self::V5_2 => "5.2",
            Self::V6_0 => "6.0",
            Self::V6_1 => "6.1",
        })
    }
}
