//! Serde types for the parts of GitHub's JSON that artifetch reads.
//!
//! Our own types rather than octocrab's: its model has no `digest` and fails a whole page on a
//! null timestamp. Every field that GHES or older uploads may leave out or null is an `Option`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub size_in_bytes: u64,
    #[serde(default)]
    pub archive_download_url: Option<String>,
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// `sha256:<hex>` of the zip as served; absent on GHES and before upload-artifact v4.
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub workflow_run: Option<ArtifactRun>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, Default)]
pub struct ArtifactRun {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub repository_id: Option<u64>,
    #[serde(default)]
    pub head_repository_id: Option<u64>,
    #[serde(default)]
    pub head_branch: Option<String>,
    #[serde(default)]
    pub head_sha: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ArtifactList {
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
}

/// GitHub's error body (`basic-error`): only the message matters to us.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_and_missing_fields_are_accepted() {
        let json = r#"{"id":1,"node_id":"x","name":"a","size_in_bytes":5,"url":"u",
            "archive_download_url":"u/zip","expired":false,"created_at":null,
            "expires_at":null,"updated_at":null,"workflow_run":null}"#;
        let a: Artifact = serde_json::from_str(json).unwrap();
        assert_eq!((a.id, a.digest, a.workflow_run), (1, None, None));
        let json =
            r#"{"id":2,"name":"b","digest":null,"workflow_run":{"id":9,"head_branch":null}}"#;
        let a: Artifact = serde_json::from_str(json).unwrap();
        assert_eq!(a.workflow_run.unwrap().id, Some(9));
    }
}
