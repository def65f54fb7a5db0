//! What the upstream can do beyond xavyo-idp's API: the console offers a control that needs a feature only
//! when the upstream lists it.

use enums::UpstreamFeature;
use serde::{Deserialize, Deserializer, Serialize};

/// `GET /features`. xavyo-idp has no such route: [`UpstreamFeatures::none`] stands for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamFeatures {
    /// The features, each once; a spelling this console does not know is skipped when read.
    #[serde(deserialize_with = "known_only")]
    pub features: Vec<UpstreamFeature>,
}

impl UpstreamFeatures {
    /// An upstream that does only what xavyo-idp's API does.
    pub fn none() -> Self {
        Self::default()
    }

    /// An upstream that does everything this console knows of (the embedded engine).
    pub fn all() -> Self {
        Self {
            features: UpstreamFeature::ALL.to_vec(),
        }
    }

    /// Whether the upstream can do `feature`.
    pub fn supports(&self, feature: UpstreamFeature) -> bool {
        self.features.contains(&feature)
    }
}

/// A newer upstream may list features this console does not know: skip them rather than fail the page.
fn known_only<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<UpstreamFeature>, D::Error> {
    let spellings = Vec::<String>::deserialize(deserializer)?;
    let mut features: Vec<UpstreamFeature> =
        spellings.iter().filter_map(|s| s.parse().ok()).collect();
    features.sort();
    features.dedup();
    Ok(features)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_features_are_skipped_and_known_ones_kept_once() {
        let read: UpstreamFeatures = serde_json::from_str(
            r#"{"features": ["pause_runs", "teleport", "pause_runs", "retry_failed"]}"#,
        )
        .expect("parses");
        assert!(read.supports(UpstreamFeature::PauseRuns));
        assert!(read.supports(UpstreamFeature::RetryFailed));
        assert!(!read.supports(UpstreamFeature::SortOperations));
        assert_eq!(read.features.len(), 2);
    }

    #[test]
    fn all_round_trips_and_none_supports_nothing() {
        let all = UpstreamFeatures::all();
        let json = serde_json::to_string(&all).expect("writes");
        assert_eq!(
            serde_json::from_str::<UpstreamFeatures>(&json).expect("reads"),
            all
        );
        assert!(UpstreamFeature::ALL.iter().all(|f| all.supports(*f)));
        assert!(UpstreamFeature::ALL
            .iter()
            .all(|f| !UpstreamFeatures::none().supports(*f)));
    }
}
