//! What the first payload bytes of a flow direction look like: an HTTP request or response, a TLS
//! record, VMware's authentication daemon banner (TCP 902, in front of NFC), or something else.
//!
//! In: the first captured bytes of a payload. Out: a [`Signature`]. Only what the bytes show:
//! encrypted vMotion and many other protocols are `Other`; a header-only capture shows nothing.

use serde::Serialize;

/// The shape of a direction's first payload bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signature {
    /// An HTTP/1.x request line (`GET `, `POST `, …).
    HttpRequest,
    /// An HTTP/1.x status line (`HTTP/1.`).
    HttpResponse,
    /// A TLS record header (content type 20–23, version 3.x).
    Tls,
    /// `220 VMware Authentication Daemon`: authd on TCP 902, which NFC goes through.
    VmwareAuthd,
    /// Bytes of no shape named here.
    Other,
}

const HTTP_METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"PUT ",
    b"HEAD ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// The authd banner's start, as VMware's hosts send it.
const AUTHD_BANNER: &[u8] = b"220 VMware Authentication Daemon";

impl Signature {
    /// Recognizes the first payload bytes; `None` when none were captured.
    pub fn of(head: &[u8]) -> Option<Signature> {
        if head.is_empty() {
            return None;
        }
        // A banner cut by the capture still counts when at least `220 VMware A` is there.
        let authd =
            head.starts_with(AUTHD_BANNER) || (head.len() >= 12 && AUTHD_BANNER.starts_with(head));
        Some(if authd {
            Signature::VmwareAuthd
        } else if head.starts_with(b"HTTP/1.") {
            Signature::HttpResponse
        } else if HTTP_METHODS.iter().any(|m| head.starts_with(m)) {
            Signature::HttpRequest
        } else if matches!(head, [20..=23, 3, 0..=4, ..]) {
            Signature::Tls
        } else {
            Signature::Other
        })
    }

    /// HTTP or TLS: a web protocol, which vMotion's stream is not.
    pub fn is_web(self) -> bool {
        matches!(
            self,
            Signature::HttpRequest | Signature::HttpResponse | Signature::Tls
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_what_the_bytes_show() {
        assert_eq!(Signature::of(b""), None);
        assert_eq!(
            Signature::of(b"GET / HTTP/1.1\r\n"),
            Some(Signature::HttpRequest)
        );
        assert_eq!(Signature::of(b"POST /upload"), Some(Signature::HttpRequest));
        assert_eq!(
            Signature::of(b"HTTP/1.0 200 OK\r\n"),
            Some(Signature::HttpResponse)
        );
        assert_eq!(Signature::of(&[22, 3, 1, 0, 200, 1]), Some(Signature::Tls));
        assert_eq!(Signature::of(&[23, 3, 3, 0, 40]), Some(Signature::Tls));
        assert_eq!(
            Signature::of(b"220 VMware Authentication Daemon Version 1.10: SSL Required"),
            Some(Signature::VmwareAuthd)
        );
        // Cut by the capture after 12 bytes: still the banner's start.
        assert_eq!(Signature::of(b"220 VMware A"), Some(Signature::VmwareAuthd));
        // An FTP or SMTP greeting is not authd.
        assert_eq!(
            Signature::of(b"220 mail.example.com ESMTP"),
            Some(Signature::Other)
        );
        // Unencrypted vMotion's stream header (one ESXi 6.0 study), or encrypted bytes.
        assert_eq!(
            Signature::of(&[0, 0, 0, 0, 3, 0, 5, 0]),
            Some(Signature::Other)
        );
        assert!(Signature::HttpRequest.is_web() && Signature::Tls.is_web());
        assert!(!Signature::VmwareAuthd.is_web() && !Signature::Other.is_web());
    }
}
