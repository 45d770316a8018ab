//! The five national levels of a rating (国办发〔2019〕51号, GB/T 39734-2020) and where a rating
//! was given.

use serde::{Deserialize, Serialize};

/// 满意度: the national codes run from 1 (非常满意) to 5 (非常不满意).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingLevel {
    VerySatisfied,
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
    VeryDissatisfied,
}

/// How a province numbers the levels in the records it receives. The national numbering gives
/// 非常满意 1 … 非常不满意 5; a few provincial platforms number them the other way round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelNumbering {
    #[default]
    National,
    Reversed,
}

impl RatingLevel {
    pub const ALL: [RatingLevel; 5] = [
        RatingLevel::VerySatisfied,
        RatingLevel::Satisfied,
        RatingLevel::BasicallySatisfied,
        RatingLevel::Dissatisfied,
        RatingLevel::VeryDissatisfied,
    ];

    /// The national code, 1 (非常满意) … 5 (非常不满意).
    pub fn code(self) -> u8 {
        match self {
            RatingLevel::VerySatisfied => 1,
            RatingLevel::Satisfied => 2,
            RatingLevel::BasicallySatisfied => 3,
            RatingLevel::Dissatisfied => 4,
            RatingLevel::VeryDissatisfied => 5,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.code() == code)
    }

    /// The code in a province's numbering.
    pub fn code_in(self, numbering: LevelNumbering) -> u8 {
        match numbering {
            LevelNumbering::National => self.code(),
            LevelNumbering::Reversed => 6 - self.code(),
        }
    }

    /// The API name: `very_satisfied` …
    pub fn as_str(self) -> &'static str {
        match self {
            RatingLevel::VerySatisfied => "very_satisfied",
            RatingLevel::Satisfied => "satisfied",
            RatingLevel::BasicallySatisfied => "basically_satisfied",
            RatingLevel::Dissatisfied => "dissatisfied",
            RatingLevel::VeryDissatisfied => "very_dissatisfied",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.as_str() == text)
    }

    /// The national label.
    pub fn label(self) -> &'static str {
        match self {
            RatingLevel::VerySatisfied => "非常满意",
            RatingLevel::Satisfied => "满意",
            RatingLevel::BasicallySatisfied => "基本满意",
            RatingLevel::Dissatisfied => "不满意",
            RatingLevel::VeryDissatisfied => "非常不满意",
        }
    }

    /// 差评: 不满意 and 非常不满意. Each opens a rectification case.
    pub fn is_bad(self) -> bool {
        matches!(
            self,
            RatingLevel::Dissatisfied | RatingLevel::VeryDissatisfied
        )
    }

    /// 非常满意 and 满意: what the satisfaction share counts.
    pub fn is_good(self) -> bool {
        matches!(self, RatingLevel::VerySatisfied | RatingLevel::Satisfied)
    }
}

/// Where a rating came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingChannel {
    /// The rating pad (评价器) at the window.
    Pad,
    /// The kiosk, by ticket number.
    Kiosk,
    /// The citizen's own phone, on the ticket's status page.
    Citizen,
    /// Nobody rated within the configured time: the locality's default level.
    SystemDefault,
}

impl RatingChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            RatingChannel::Pad => "pad",
            RatingChannel::Kiosk => "kiosk",
            RatingChannel::Citizen => "citizen",
            RatingChannel::SystemDefault => "system_default",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            RatingChannel::Pad,
            RatingChannel::Kiosk,
            RatingChannel::Citizen,
            RatingChannel::SystemDefault,
        ]
        .into_iter()
        .find(|channel| channel.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            RatingChannel::Pad => "窗口评价器",
            RatingChannel::Kiosk => "自助终端",
            RatingChannel::Citizen => "手机",
            RatingChannel::SystemDefault => "系统默认",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_codes_and_names() {
        let expected = [
            (1, "very_satisfied", "非常满意", false),
            (2, "satisfied", "满意", false),
            (3, "basically_satisfied", "基本满意", false),
            (4, "dissatisfied", "不满意", true),
            (5, "very_dissatisfied", "非常不满意", true),
        ];
        for (level, (code, name, label, bad)) in RatingLevel::ALL.into_iter().zip(expected) {
            assert_eq!(level.code(), code);
            assert_eq!(level.as_str(), name);
            assert_eq!(level.label(), label);
            assert_eq!(level.is_bad(), bad);
            assert_eq!(RatingLevel::from_code(code), Some(level));
            assert_eq!(RatingLevel::parse(name), Some(level));
        }
        assert_eq!(RatingLevel::from_code(0), None);
        assert_eq!(RatingLevel::from_code(6), None);
    }

    /// Test vectors for provinces that number the levels the other way round.
    #[test]
    fn reversed_numbering() {
        let vectors = [
            (RatingLevel::VerySatisfied, 1, 5),
            (RatingLevel::Satisfied, 2, 4),
            (RatingLevel::BasicallySatisfied, 3, 3),
            (RatingLevel::Dissatisfied, 4, 2),
            (RatingLevel::VeryDissatisfied, 5, 1),
        ];
        for (level, national, reversed) in vectors {
            assert_eq!(level.code_in(LevelNumbering::National), national);
            assert_eq!(level.code_in(LevelNumbering::Reversed), reversed);
        }
    }
}
