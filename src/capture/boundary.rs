//! Where pcap-parser's values meet ours: its link-type field becomes a [`LinkType`], and its
//! parse errors become sentences for [`super::CaptureError::Corrupt`].
//!
//! In: pcap-parser's `Linktype` and `nom::Err<PcapError>` with the bytes it was given. Out: our
//! [`LinkType`]; a message naming what was wrong (the caller adds which header and its offset).

use crate::vocab::wire::LinkType;

/// Our [`LinkType`] for pcap-parser's link-type field: its low 16 bits (in a pcap file header the
/// upper bits may carry FCS information; in pcapng the field is 16 bits wide).
pub(crate) fn link_type_of(raw: pcap_parser::Linktype) -> LinkType {
    LinkType::from(raw.0 as u32 & 0xffff)
}

/// Says in words why pcap-parser rejected `input`, a file header or block starting at its first
/// byte (the caller names which, and the error carries its file offset): how many bytes it lacks,
/// or which check failed at which byte of it. pcap-parser's own `Display` would print the rest
/// of the input as a list of numbers.
pub(crate) fn parse_failure(
    e: &pcap_parser::nom::Err<pcap_parser::PcapError<&[u8]>>,
    input: &[u8],
) -> String {
    use pcap_parser::PcapError;
    use pcap_parser::nom::error::ErrorKind;
    use pcap_parser::nom::{Err, Needed};
    let len = input.len();
    let short = |n: usize| format!("it has {len} bytes, {n} fewer than its fixed fields need");
    match e {
        Err::Incomplete(Needed::Size(n)) => short(n.get()),
        Err::Incomplete(Needed::Unknown) => format!("its {len} bytes end inside a field"),
        Err::Error(p) | Err::Failure(p) => match p {
            PcapError::Incomplete(n) => short(*n),
            PcapError::HeaderNotRecognized => "its magic number is not recognized".into(),
            PcapError::NomError(rest, kind) => {
                // `rest` is the part of `input` the failing parser was looking at.
                let at = (rest.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
                let at = if at <= len {
                    format!("byte {at} of its {len}")
                } else {
                    format!("one of its {len} bytes")
                };
                match kind {
                    ErrorKind::Eof | ErrorKind::Complete => {
                        format!("a field at {at} runs past its end")
                    }
                    ErrorKind::Verify => {
                        format!("its type or length fields do not match (checked at {at})")
                    }
                    other => format!("parser check {} failed at {at}", other.description()),
                }
            }
            PcapError::OwnedNomError(_, kind) => {
                format!("parser check {} failed", kind.description())
            }
            PcapError::Eof | PcapError::UnexpectedEof => "it ends early".into(),
            PcapError::BufferTooSmall | PcapError::ReadError => p.to_string(),
        },
    }
}
