//! Public keys and signature checks on `ring`, the crypto rustls already uses here: no second
//! provider. Keys arrive as DER SubjectPublicKeyInfo (certificates, trusted-root log keys).

use der::Decode as _;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_cert::spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    P256,
    P384,
    Ed25519,
    Rsa,
}

/// A public key ring can verify with.
#[derive(Debug, Clone)]
pub(super) struct PublicKey {
    kind: Kind,
    /// The subjectPublicKey bits: an EC point, an Ed25519 key or an RSAPublicKey.
    bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl PublicKey {
    pub(super) fn from_spki_der(der: &[u8]) -> Result<PublicKey, String> {
        let spki =
            SubjectPublicKeyInfoRef::from_der(der).map_err(|e| format!("public key: {e}"))?;
        PublicKey::from_spki(&spki)
    }

    pub(super) fn from_spki(spki: &SubjectPublicKeyInfoRef<'_>) -> Result<PublicKey, String> {
        let alg = &spki.algorithm;
        let kind = if alg.oid == EC_PUBLIC_KEY {
            match alg
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            {
                Some(c) if c == P256 => Kind::P256,
                Some(c) if c == P384 => Kind::P384,
                other => return Err(format!("unsupported elliptic curve {other:?}")),
            }
        } else if alg.oid == ED25519 {
            Kind::Ed25519
        } else if alg.oid == RSA {
            Kind::Rsa
        } else {
            return Err(format!("unsupported public key algorithm {}", alg.oid));
        };
        let bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or("public key bits are not whole bytes")?
            .to_vec();
        Ok(PublicKey { kind, bytes })
    }

    pub(super) fn is_ec(&self) -> bool {
        matches!(self.kind, Kind::P256 | Kind::P384)
    }

    pub(super) fn is_rsa(&self) -> bool {
        self.kind == Kind::Rsa
    }

    /// The key's usual hash: Sigstore signs with P-256/SHA-256, P-384/SHA-384, RSA/SHA-256.
    pub(super) fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        let hash = match self.kind {
            Kind::P384 => Hash::Sha384,
            _ => Hash::Sha256,
        };
        self.verify_with(hash, message, sig)
    }

    pub(super) fn verify_with(&self, hash: Hash, message: &[u8], sig: &[u8]) -> bool {
        let alg: &dyn VerificationAlgorithm = match (self.kind, hash) {
            (Kind::P256, Hash::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
            (Kind::P256, Hash::Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
            (Kind::P384, Hash::Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
            (Kind::P384, Hash::Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
            (Kind::Ed25519, _) => &signature::ED25519,
            (Kind::Rsa, Hash::Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
            (Kind::Rsa, Hash::Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
            (Kind::Rsa, Hash::Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
            _ => return false,
        };
        UnparsedPublicKey::new(alg, &self.bytes)
            .verify(message, sig)
            .is_ok()
    }

    /// Checks a signature made with an X.509 signature algorithm (certificates, CMS).
    pub(super) fn verify_alg(&self, alg: &ObjectIdentifier, message: &[u8], sig: &[u8]) -> bool {
        let hash = match *alg {
            a if a == ECDSA_SHA256 || a == RSA_SHA256 => Hash::Sha256,
            a if a == ECDSA_SHA384 || a == RSA_SHA384 => Hash::Sha384,
            a if a == ECDSA_SHA512 || a == RSA_SHA512 => Hash::Sha512,
            a if a == ED25519 => return self.kind == Kind::Ed25519 && self.verify(message, sig),
            _ => return false,
        };
        let ecdsa = *alg == ECDSA_SHA256 || *alg == ECDSA_SHA384 || *alg == ECDSA_SHA512;
        let key_is_ec = matches!(self.kind, Kind::P256 | Kind::P384);
        ecdsa == key_is_ec && self.verify_with(hash, message, sig)
    }
}

pub(super) fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}
