//! CleverTap's regions (the API host of an account) and how the pull shows days and counts.

/// A CleverTap region: the account's API host is `https://<region>.api.clevertap.com`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// Europe (most accounts; also `api.clevertap.com`).
    Eu1,
    /// India.
    In1,
    /// Singapore.
    Sg1,
    /// United States.
    Us1,
    /// Indonesia.
    Aps3,
    /// Middle East.
    Mec1,
}

impl Region {
    /// Every region, in the order a picker shows them.
    pub const ALL: [Region; 6] = [
        Region::Eu1,
        Region::In1,
        Region::Sg1,
        Region::Us1,
        Region::Aps3,
        Region::Mec1,
    ];

    /// `eu1`, `in1`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Eu1 => "eu1",
            Region::In1 => "in1",
            Region::Sg1 => "sg1",
            Region::Us1 => "us1",
            Region::Aps3 => "aps3",
            Region::Mec1 => "mec1",
        }
    }

    /// `https://<region>.api.clevertap.com`.
    pub fn base_url(self) -> String {
        format!("https://{}.api.clevertap.com", self.as_str())
    }
}

impl std::str::FromStr for Region {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Region::ALL
            .into_iter()
            .find(|region| region.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| format!("unknown region `{text}`: use eu1, in1, sg1, us1, aps3 or mec1"))
    }
}

/// `20240301` as `2024-03-01`.
pub fn format_day(day: u32) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day / 10_000,
        day / 100 % 100,
        day % 100
    )
}

/// A count with thousands separators: `1,204,311`.
pub fn format_count(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_formats() {
        for region in Region::ALL {
            let url = crate::feed::check_url(&region.base_url()).unwrap();
            assert_eq!(
                url.host_str(),
                Some(&*format!("{}.api.clevertap.com", region.as_str()))
            );
            assert_eq!(region.as_str().parse::<Region>(), Ok(region));
        }
        assert!("eu2".parse::<Region>().is_err());
        assert_eq!(format_count(1_204_311), "1,204,311");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1000), "1,000");
        assert_eq!(format_day(20240307), "2024-03-07");
    }
}
