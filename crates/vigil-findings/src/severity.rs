//! Severity: a 0–100 score and the ASFF label its range falls in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The severity labels of the AWS Security Finding Format, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SeverityLabel {
    /// Score 0: no issue, for information.
    Informational,
    /// Score 1–39.
    Low,
    /// Score 40–69.
    Medium,
    /// Score 70–89.
    High,
    /// Score 90–100.
    Critical,
}

impl SeverityLabel {
    /// Every label, lowest first.
    pub const ALL: [SeverityLabel; 5] = [
        SeverityLabel::Informational,
        SeverityLabel::Low,
        SeverityLabel::Medium,
        SeverityLabel::High,
        SeverityLabel::Critical,
    ];

    /// The label ASFF gives a normalized score (values above 100 count as 100).
    pub fn from_score(score: u8) -> Self {
        match score {
            0 => SeverityLabel::Informational,
            1..=39 => SeverityLabel::Low,
            40..=69 => SeverityLabel::Medium,
            70..=89 => SeverityLabel::High,
            _ => SeverityLabel::Critical,
        }
    }

    /// The lowest score with this label (what `--severity high` filters from).
    pub fn min_score(self) -> u8 {
        match self {
            SeverityLabel::Informational => 0,
            SeverityLabel::Low => 1,
            SeverityLabel::Medium => 40,
            SeverityLabel::High => 70,
            SeverityLabel::Critical => 90,
        }
    }

    /// The upper-case ASFF spelling (`HIGH`).
    pub fn as_str(self) -> &'static str {
        match self {
            SeverityLabel::Informational => "INFORMATIONAL",
            SeverityLabel::Low => "LOW",
            SeverityLabel::Medium => "MEDIUM",
            SeverityLabel::High => "HIGH",
            SeverityLabel::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for SeverityLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SeverityLabel {
    type Err = String;

    /// Accepts the ASFF labels and the Sigma levels, in any case (`info` too).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        match lower.as_str() {
            "info" => return Ok(SeverityLabel::Informational),
            "crit" => return Ok(SeverityLabel::Critical),
            _ => {}
        }
        SeverityLabel::ALL
            .into_iter()
            .find(|label| label.as_str().eq_ignore_ascii_case(&lower))
            .ok_or_else(|| {
                format!("unknown severity `{text}` (informational, low, medium, high, critical)")
            })
    }
}

/// How bad a finding is: a score from 0 to 100 and its ASFF label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Severity {
    /// The ASFF label of `score`.
    pub label: SeverityLabel,
    /// Normalized score, 0–100.
    pub score: u8,
}

impl Severity {
    /// A severity from a score; scores above 100 are clamped to 100.
    pub fn from_score(score: u8) -> Self {
        let score = score.min(100);
        Severity {
            label: SeverityLabel::from_score(score),
            score,
        }
    }

    /// The severity of a Sigma `level`: informational 0, low 30, medium 50, high 75,
    /// critical 95. `None` for a level Sigma does not define.
    pub fn from_sigma_level(level: &str) -> Option<Self> {
        let score = match level.trim().to_ascii_lowercase().as_str() {
            "informational" => 0,
            "low" => 30,
            "medium" => 50,
            "high" => 75,
            "critical" => 95,
            _ => return None,
        };
        Some(Severity::from_score(score))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.label, self.score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_asff_ranges() {
        let cases = [
            (0, SeverityLabel::Informational),
            (1, SeverityLabel::Low),
            (39, SeverityLabel::Low),
            (40, SeverityLabel::Medium),
            (69, SeverityLabel::Medium),
            (70, SeverityLabel::High),
            (89, SeverityLabel::High),
            (90, SeverityLabel::Critical),
            (100, SeverityLabel::Critical),
        ];
        for (score, label) in cases {
            assert_eq!(SeverityLabel::from_score(score), label, "score {score}");
            assert_eq!(SeverityLabel::from_score(label.min_score()), label);
        }
        assert_eq!(Severity::from_score(250).score, 100);
    }

    #[test]
    fn sigma_levels_map_to_scores_inside_their_label() {
        let high = Severity::from_sigma_level("High").map(|s| (s.label, s.score));
        assert_eq!(high, Some((SeverityLabel::High, 75)));
        for level in ["informational", "low", "medium", "high", "critical"] {
            let severity = Severity::from_sigma_level(level);
            let label = level.parse::<SeverityLabel>().ok();
            assert_eq!(severity.map(|s| s.label), label, "{level}");
        }
        assert_eq!(Severity::from_sigma_level("severe"), None);
    }

    #[test]
    fn labels_parse_and_print() {
        for label in SeverityLabel::ALL {
            assert_eq!(label.to_string().parse::<SeverityLabel>(), Ok(label));
        }
        assert_eq!("info".parse(), Ok(SeverityLabel::Informational));
        assert!("urgent".parse::<SeverityLabel>().is_err());
    }
}
