//! A fake Sigstore: its own Fulcio-like CA, a Rekor-like log key and a trusted root naming them,
//! and real bundles signed for chosen artifacts with GitHub Actions identities — or with one
//! thing wrong ([`Flaw`]), so each check of a verifier can be shown to bite.
//!
//! Bundles are v0.3 with a DSSE envelope over an in-toto statement, a `dsse` log entry with a
//! signed entry timestamp, and an inclusion proof in a two-leaf tree with a signed checkpoint; or,
//! as GitHub's own instance signs for private repositories ([`Attestation::timestamped`]), no
//! log entry but an RFC 3161 timestamp from the fake timestamp authority ([`tsa`]).

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType, SigningKey,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::util::base64 as b64;
use crate::util::hex;

pub mod ct;
pub mod tsa;

pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const LOG_ORIGIN: &str = "fakehub.rekor";

/// Who signed: the GitHub Actions claims Fulcio copies into the certificate.
#[derive(Debug, Clone)]
pub struct Signer {
    /// `owner/repo` the run belongs to.
    pub repository: String,
    /// `owner/repo/.github/workflows/file.yml` that ran the signing step.
    pub workflow: String,
    pub git_ref: String,
    pub sha: String,
    pub issuer: String,
    /// Run Invocation URI: `{server}/owner/repo/actions/runs/{id}/attempts/{n}`, the run that
    /// signed (real certificates name it; a verifier binds the attestation to it).
    pub run_url: String,
    /// Runner Environment: `github-hosted` or `self-hosted`.
    pub runner: String,
}

impl Signer {
    /// `repository`'s `.github/workflows/{file}` on `refs/heads/main`.
    pub fn new(repository: &str, file: &str) -> Signer {
        Signer {
            repository: repository.into(),
            workflow: format!("{repository}/.github/workflows/{file}"),
            git_ref: "refs/heads/main".into(),
            sha: "0123456789abcdef0123456789abcdef01234567".into(),
            issuer: GITHUB_ISSUER.into(),
            run_url: format!("https://github.com/{repository}/actions/runs/1/attempts/1"),
            runner: "github-hosted".into(),
        }
    }

    /// Signed by attempt 1 of run `run_id` of the repository on the server `server_url` (fakehub's
    /// own, for the run an artifact came from).
    pub fn in_run(mut self, server_url: &str, run_id: u64) -> Signer {
        self.run_url = format!(
            "{}/{}/actions/runs/{run_id}/attempts/1",
            server_url.trim_end_matches('/'),
            self.repository
        );
        self
    }

    /// On refs `git_ref` (`refs/heads/main`, `refs/pull/7/merge`): the source ref and the ref
    /// of the workflow file in the Build Signer URI.
    pub fn on_ref(mut self, git_ref: &str) -> Signer {
        self.git_ref = git_ref.into();
        self
    }
}

/// One thing wrong with a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    /// The statement is changed after signing and logging.
    TamperedPayload,
    /// The signature covers other bytes (and is logged as such).
    BadSignature,
    /// The signed entry timestamp is not the log's signature.
    ForgedSet,
    /// The inclusion proof's path is wrong.
    ForgedInclusion,
    /// No log entry at all.
    NoLogEntry,
    /// The certificate comes from a CA the trusted root does not name.
    UnknownCa,
    /// The certificate expired before the log entry's (or the timestamp's) time.
    ExpiredCertificate,
    /// The timestamp is about other bytes than the signature.
    TimestampImprint,
    /// The timestamp is signed by an authority the trusted root does not name (its certificate,
    /// carried in the token, has the right name but another issuer's signature).
    UnknownTsa,
    /// The timestamp's time is before its authority was valid.
    TimestampOutsideValidity,
    /// The timestamp is not DER at all.
    GarbageTimestamp,
    /// The timestamp's genTime holds a two-byte UTF-8 character where a digit belongs (the
    /// signature is then wrong too, but parsing comes first).
    MultibyteGenTime,
    /// The log body names the right payload hash and signature, but not in the fields that
    /// mean them (the payload hash field is another statement's).
    StringMatchedBody,
    /// The leaf is a TLS server certificate (extended key usage serverAuth, not codeSigning).
    ServerAuthLeaf,
    /// The leaf is a CA certificate (`cA=true`).
    CaLeaf,
    /// The leaf's key usage lacks digitalSignature.
    NoDigitalSignature,
    /// The leaf carries no signed certificate timestamp.
    NoSct,
}

/// What to attest.
#[derive(Debug, Clone)]
pub struct Attestation {
    /// SHA-256 (hex) of the artifact's zip.
    pub sha256: String,
    pub predicate_type: String,
    pub signer: Signer,
    pub flaw: Option<Flaw>,
    /// Time proven by an RFC 3161 timestamp, with no log entry (GitHub's own instance).
    pub timestamped: bool,
    /// Subjects besides the artifact the statement names (other files' digests).
    pub extra_subjects: usize,
}

impl Attestation {
    /// SLSA provenance v1 for `sha256`, signed by `signer`.
    pub fn new(sha256: &str, signer: Signer) -> Attestation {
        Attestation {
            sha256: sha256.into(),
            predicate_type: "https://slsa.dev/provenance/v1".into(),
            signer,
            flaw: None,
            timestamped: false,
            extra_subjects: 0,
        }
    }
}

pub struct FakeSigstore {
    ca: Issuer<'static, KeyPair>,
    ca_der: Vec<u8>,
    /// SHA-256 of the CA's SubjectPublicKeyInfo: the issuer key hash SCTs sign.
    ca_key_hash: [u8; 32],
    ct_key: KeyPair,
    ct_log_id: [u8; 32],
    rogue_ca: Issuer<'static, KeyPair>,
    log_key: KeyPair,
    log_id: [u8; 32],
    tsa: Tsa,
    rogue_tsa: Tsa,
}

/// A timestamp authority: its CA, and the time-stamping certificate and key it signs with.
struct Tsa {
    ca_der: Vec<u8>,
    cert_der: Vec<u8>,
    key: KeyPair,
}

impl Tsa {
    fn new() -> Tsa {
        let (ca, ca_der) = new_ca("fakehub tsa");
        let key = KeyPair::generate().expect("TSA key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.distinguished_name
            .push(DnType::CommonName, "fakehub timestamping");
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::TimeStamping];
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2100, 1, 1);
        let cert = p.signed_by(&key, &ca).expect("TSA certificate");
        Tsa {
            ca_der,
            cert_der: cert.der().to_vec(),
            key,
        }
    }
}

fn new_ca(name: &str) -> (Issuer<'static, KeyPair>, Vec<u8>) {
    let (issuer, der, _) = new_ca_of("fakehub", name);
    (issuer, der)
}

/// A CA: its issuer, its certificate, and the SHA-256 of its SubjectPublicKeyInfo.
fn new_ca_of(organization: &str, name: &str) -> (Issuer<'static, KeyPair>, Vec<u8>, [u8; 32]) {
    let key = KeyPair::generate().expect("key");
    let key_hash = sha256(&key.subject_public_key_info());
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::OrganizationName, organization);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let cert = p.self_signed(&key).expect("CA certificate");
    (Issuer::new(p, key), cert.der().to_vec(), key_hash)
}

const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The in-toto statement `a` describes: its artifact first, then any extra subjects.
fn statement(a: &Attestation) -> String {
    let mut subjects = vec![json!({"name": "artifact.zip", "digest": {"sha256": a.sha256}})];
    subjects.extend((0..a.extra_subjects).map(|n| {
        json!({"name": format!("other-{n}"), "digest": {"sha256": hex(&sha256(&n.to_le_bytes()))}})
    }));
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": a.predicate_type,
        "predicate": {"buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1"}}
    })
    .to_string()
}

/// DSSE's pre-authentication encoding of `statement`: what the signature covers.
fn pae(statement: &str) -> Vec<u8> {
    let mut pae = format!(
        "DSSEv1 {} {PAYLOAD_TYPE} {} ",
        PAYLOAD_TYPE.len(),
        statement.len()
    )
    .into_bytes();
    pae.extend_from_slice(statement.as_bytes());
    pae
}

/// The log entry's canonical `dsse` body: the statement's hash, the signature and the
/// certificate (or, with [`Flaw::StringMatchedBody`], the right hash in the wrong field).
fn log_body(cert: &[u8], sig: &[u8], statement: &str, flaw: Option<Flaw>) -> String {
    let payload_hash = hex(&sha256(statement.as_bytes()));
    let mut body = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "payloadHash": {"algorithm": "sha256", "value": payload_hash},
            "signatures": [{"signature": b64(sig), "verifier": b64(pem(cert).as_bytes())}]
        }
    });
    if flaw == Some(Flaw::StringMatchedBody) {
        body["spec"]["payloadHash"]["value"] = hex(&sha256(b"another statement")).into();
        body["spec"]["note"] = payload_hash.into();
    }
    body.to_string()
}

/// A two-leaf Merkle tree, a genesis leaf then the entry's body: its root, and the inclusion
/// path of the second leaf (garbage with [`Flaw::ForgedInclusion`]).
struct LogTree {
    root: [u8; 32],
    path: [u8; 32],
}

impl LogTree {
    fn with(body: &str, flaw: Option<Flaw>) -> LogTree {
        let node = |tag: u8, parts: &[&[u8]]| {
            let mut buf = vec![tag];
            parts.iter().for_each(|p| buf.extend_from_slice(p));
            sha256(&buf)
        };
        let genesis = node(0, &[b"fakehub genesis"]);
        let leaf = node(0, &[body.as_bytes()]);
        let root = node(1, &[&genesis, &leaf]);
        let path = if flaw == Some(Flaw::ForgedInclusion) {
            [7u8; 32]
        } else {
            genesis
        };
        LogTree { root, path }
    }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// DER UTF8String, as Fulcio writes its newer extensions.
fn utf8_der(s: &str) -> Vec<u8> {
    let mut out = vec![0x0c];
    let n = s.len();
    if n < 128 {
        out.push(n as u8);
    } else if n < 256 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(s.as_bytes());
    out
}

/// A certificate as PEM, as Rekor v1 logs a `dsse` entry's verifier.
fn pem(der: &[u8]) -> String {
    let text = b64(der);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

fn fulcio_oid(n: u64) -> Vec<u64> {
    vec![1, 3, 6, 1, 4, 1, 57264, 1, n]
}

impl Default for FakeSigstore {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeSigstore {
    pub fn new() -> FakeSigstore {
        Self::of("fakehub")
    }

    /// A fake whose Fulcio CA is named as a real instance's (`sigstore.dev` for public-good,
    /// `GitHub, Inc.` for GitHub's), so that instance's requirements apply to its bundles.
    pub fn of(organization: &str) -> FakeSigstore {
        let (ca, ca_der, ca_key_hash) = new_ca_of(organization, "fakehub fulcio");
        let (rogue_ca, _) = new_ca("fakehub fulcio");
        let log_key = KeyPair::generate().expect("log key");
        let log_id = sha256(log_key.subject_public_key_info().as_slice());
        let ct_key = KeyPair::generate().expect("CT log key");
        let ct_log_id = sha256(&ct_key.subject_public_key_info());
        FakeSigstore {
            ca,
            ca_der,
            ca_key_hash,
            ct_key,
            ct_log_id,
            rogue_ca,
            log_key,
            log_id,
            tsa: Tsa::new(),
            rogue_tsa: Tsa::new(),
        }
    }

    /// A `trusted_root.json` naming the CA, the log and the timestamp authority (and nothing else).
    pub fn trusted_root(&self) -> String {
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{
                "baseUrl": "https://rekor.fakehub.invalid",
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": b64(&self.log_key.subject_public_key_info()),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"}
                },
                "logId": {"keyId": b64(&self.log_id)}
            }],
            "certificateAuthorities": [{
                "subject": {"organization": "fakehub", "commonName": "fakehub fulcio"},
                "uri": "https://fulcio.fakehub.invalid",
                "certChain": {"certificates": [{"rawBytes": b64(&self.ca_der)}]},
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            }],
            "ctlogs": [{
                "baseUrl": "https://ctfe.fakehub.invalid",
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": b64(&self.ct_key.subject_public_key_info()),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"}
                },
                "logId": {"keyId": b64(&self.ct_log_id)}
            }],
            "timestampAuthorities": [{
                "subject": {"organization": "fakehub", "commonName": "fakehub tsa"},
                "uri": "https://timestamp.fakehub.invalid",
                "certChain": {"certificates": [
                    {"rawBytes": b64(&self.tsa.cert_der)},
                    {"rawBytes": b64(&self.tsa.ca_der)}
                ]},
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            }]
        })
        .to_string()
    }

    /// A leaf certificate for `signer`, valid `from..until` (Unix seconds), and its key.
    fn leaf(
        &self,
        signer: &Signer,
        from: i64,
        until: i64,
        flaw: Option<Flaw>,
    ) -> (Vec<u8>, KeyPair) {
        let key = KeyPair::generate().expect("leaf key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        let time = |t: i64| time::OffsetDateTime::from_unix_timestamp(t).expect("time");
        p.not_before = time(from);
        p.not_after = time(until);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        match flaw {
            Some(Flaw::ServerAuthLeaf) => {
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth]
            }
            Some(Flaw::CaLeaf) => p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained),
            Some(Flaw::NoDigitalSignature) => p.key_usages = vec![KeyUsagePurpose::KeyAgreement],
            _ => {}
        }
        let workflow_uri = format!("https://github.com/{}@{}", signer.workflow, signer.git_ref);
        p.subject_alt_names = vec![SanType::URI(workflow_uri.clone().try_into().expect("URI"))];
        let ext = |n: u64, der: Vec<u8>| CustomExtension::from_oid_content(&fulcio_oid(n), der);
        p.custom_extensions = vec![
            ext(1, signer.issuer.clone().into_bytes()),
            ext(5, signer.repository.clone().into_bytes()),
            ext(6, signer.git_ref.clone().into_bytes()),
            ext(8, utf8_der(&signer.issuer)),
            ext(11, utf8_der(&signer.runner)),
            ext(9, utf8_der(&workflow_uri)),
            ext(
                12,
                utf8_der(&format!("https://github.com/{}", signer.repository)),
            ),
            ext(13, utf8_der(&signer.sha)),
            ext(14, utf8_der(&signer.git_ref)),
            ext(21, utf8_der(&signer.run_url)),
        ];
        let issuer = if flaw == Some(Flaw::UnknownCa) {
            &self.rogue_ca
        } else {
            &self.ca
        };
        // The SCT signs the precertificate: the same TBS without the SCT list, which goes
        // last (rcgen writes custom extensions in order, after its own).
        p.serial_number = Some(vec![0x42; 8].into());
        let precert = p.signed_by(&key, issuer).expect("precertificate");
        if flaw != Some(Flaw::NoSct) {
            let tbs = ct::tbs_of(precert.der());
            let value = ct::sct_extension(
                &self.ct_key,
                &self.ct_log_id,
                &self.ca_key_hash,
                &tbs,
                from as u64 * 1000,
            );
            p.custom_extensions
                .push(CustomExtension::from_oid_content(ct::SCT_LIST_OID, value));
        }
        let cert = p.signed_by(&key, issuer).expect("leaf certificate");
        (cert.der().to_vec(), key)
    }

    /// A bundle (JSON) attesting `a`, logged now.
    pub fn bundle(&self, a: &Attestation) -> String {
        let now = crate::util::now_unix();
        let flaw = a.flaw;
        let (from, until) = if flaw == Some(Flaw::ExpiredCertificate) {
            (now - 3600, now - 1800)
        } else {
            (now - 60, now + 600)
        };
        let (cert, key) = self.leaf(&a.signer, from, until, flaw);
        let statement = statement(a);
        let mut pae = pae(&statement);
        if flaw == Some(Flaw::BadSignature) {
            pae.push(b'!');
        }
        let sig = key.sign(&pae).expect("sign");
        let entries = if flaw == Some(Flaw::NoLogEntry) || a.timestamped {
            vec![]
        } else {
            let body = log_body(&cert, &sig, &statement, flaw);
            vec![self.log_entry(&body, &key, now, flaw)]
        };
        let stamps = if a.timestamped {
            vec![json!({"signedTimestamp": b64(&self.timestamp(&sig, now, flaw))})]
        } else {
            vec![]
        };
        let payload = if flaw == Some(Flaw::TamperedPayload) {
            statement.replace("buildDefinition", "buildDefinitioN")
        } else {
            statement
        };
        let bundle: Value = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": b64(&cert)},
                "tlogEntries": entries,
                "timestampVerificationData": {"rfc3161Timestamps": stamps}
            },
            "dsseEnvelope": {
                "payload": b64(payload.as_bytes()),
                "payloadType": PAYLOAD_TYPE,
                "signatures": [{"sig": b64(&sig), "keyid": ""}]
            }
        });
        bundle.to_string()
    }

    /// The `dsse` log entry for `body`, at log index 4242 of a two-leaf tree, with its inclusion
    /// proof, signed checkpoint and signed entry timestamp (each forgeable by `flaw`).
    fn log_entry(&self, body: &str, signer_key: &KeyPair, now: i64, flaw: Option<Flaw>) -> Value {
        let log_index = 4242;
        let tree = LogTree::with(body, flaw);
        let set_text = format!(
            r#"{{"body":"{}","integratedTime":{now},"logID":"{}","logIndex":{log_index}}}"#,
            b64(body.as_bytes()),
            hex(&self.log_id)
        );
        // A signed entry timestamp by the signer's own key is a forgery.
        let set = if flaw == Some(Flaw::ForgedSet) {
            signer_key.sign(set_text.as_bytes()).expect("sign")
        } else {
            self.log_key.sign(set_text.as_bytes()).expect("sign")
        };
        json!({
            "logIndex": log_index.to_string(),
            "logId": {"keyId": b64(&self.log_id)},
            "kindVersion": {"kind": "dsse", "version": "0.0.1"},
            "integratedTime": now.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": b64(&set)},
            "inclusionProof": {
                "logIndex": "1",
                "rootHash": b64(&tree.root),
                "treeSize": "2",
                "hashes": [b64(&tree.path)],
                "checkpoint": {"envelope": self.checkpoint(&tree.root)}
            },
            "canonicalizedBody": b64(body.as_bytes())
        })
    }

    /// The log's signed note for a tree of size 2 with `root`.
    fn checkpoint(&self, root: &[u8; 32]) -> String {
        let note = format!("{LOG_ORIGIN} - 1\n2\n{}\n", b64(root));
        let mut note_sig = self.log_id[..4].to_vec();
        note_sig.extend(self.log_key.sign(note.as_bytes()).expect("sign"));
        format!("{note}\n\u{2014} {LOG_ORIGIN} {}\n", b64(&note_sig))
    }

    /// An RFC 3161 TimeStampResp over `sig` at `now`, from the fake TSA (or flawed).
    fn timestamp(&self, sig: &[u8], now: i64, flaw: Option<Flaw>) -> Vec<u8> {
        let mut stamp = tsa::Stamp {
            message: sig,
            gen_time: now,
            key: &self.tsa.key,
            certificates: &[],
        };
        let rogue = [self.rogue_tsa.cert_der.clone()];
        match flaw {
            Some(Flaw::TimestampImprint) => stamp.message = b"other bytes",
            Some(Flaw::UnknownTsa) => {
                stamp.key = &self.rogue_tsa.key;
                stamp.certificates = &rogue;
            }
            Some(Flaw::TimestampOutsideValidity) => stamp.gen_time = 1_500_000_000, // 2017
            Some(Flaw::GarbageTimestamp) => return b"\x30\x82garbage".to_vec(),
            _ => {}
        }
        let mut der = tsa::response(&stamp);
        if flaw == Some(Flaw::MultibyteGenTime) {
            // GeneralizedTime, 15 bytes, "YYYYMMDD...": "é" across the year and the month.
            let at = der
                .windows(2)
                .position(|w| w == [0x18, 15])
                .expect("genTime");
            der[at + 5..at + 7].copy_from_slice("é".as_bytes());
        }
        der
    }
}
