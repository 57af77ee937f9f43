//! A private CA bundle (`ca_file`) checked as the HTTP client will load it:
//! reqwest reads the PEM blocks with rustls-pki-types and hands each
//! certificate to rustls' `RootCertStore::add`, which parses it as an
//! X.509 trust anchor (reqwest 0.13 `src/tls.rs`, `from_pem_bundle` and
//! `add_to_rustls`). A bundle that passes here loads there.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// A CA bundle is a few certificates; the whole Mozilla set is ~250 KiB.
const MAX_BUNDLE_BYTES: u64 = 4 * 1024 * 1024;

/// How many certificates `file` holds, or one line saying what is wrong.
pub(crate) fn check_bundle(file: &str) -> Result<usize, String> {
    let text = super::read_capped(std::path::Path::new(file), MAX_BUNDLE_BYTES)
        .map_err(|reason| format!("cannot read {file}: {reason}"))?;
    check_pem(file, text.as_bytes())
}

fn check_pem(file: &str, pem: &[u8]) -> Result<usize, String> {
    let mut store = rustls::RootCertStore::empty();
    let mut count = 0;
    for (i, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let n = i + 1;
        let cert = cert.map_err(|e| {
            format!("{file}: certificate {n} is not valid PEM ({e}): the HTTP client would refuse the bundle")
        })?;
        store.add(cert).map_err(|e| {
            format!("{file}: certificate {n} is not a usable X.509 certificate ({e}): the HTTP client would refuse the bundle")
        })?;
        count = n;
    }
    if count == 0 {
        return Err(format!(
            "{file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/private-ca.pem");
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn a_real_bundle_passes() {
        assert_eq!(check_pem("ca.pem", good().as_bytes()), Ok(1));
    }

    #[test]
    fn a_pem_block_whose_body_is_not_a_certificate_is_refused() {
        // Valid base64, but not DER: "hello world, not a certificate".
        let fake = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQsIG5vdCBhIGNlcnRpZmljYXRl\n-----END CERTIFICATE-----\n";
        let err = check_pem("ca.pem", fake.as_bytes()).unwrap_err();
        assert!(err.contains("certificate 1 is not a usable X.509"), "{err}");
        // Broken base64 inside the markers.
        let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let err = check_pem("ca.pem", broken.as_bytes()).unwrap_err();
        assert!(err.contains("certificate 1 is not valid PEM"), "{err}");
        // A good certificate followed by a bad one: the second is named.
        let both = format!("{}{fake}", good());
        let err = check_pem("ca.pem", both.as_bytes()).unwrap_err();
        assert!(err.contains("certificate 2"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn no_certificate_at_all() {
        let err = check_pem("ca.pem", b"hello").unwrap_err();
        assert!(err.contains("holds no PEM certificate"), "{err}");
    }
}
