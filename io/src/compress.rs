//! Body compression; whether to compress is decided in core (`choose_encoding`).

use std::io::Write;

use corral_core::http::compress::Encoding;
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};

/// The body in `encoding`: gzip, or zlib-wrapped "deflate" as Proxmox sends it.
pub fn encode(encoding: Encoding, body: &[u8]) -> Vec<u8> {
    // Writing into a Vec cannot fail, so neither can the encoders.
    let out = Vec::with_capacity(body.len() / 2);
    match encoding {
        Encoding::Gzip => {
            let mut encoder = GzEncoder::new(out, Compression::default());
            encoder
                .write_all(body)
                .expect("writing to a Vec cannot fail");
            encoder.finish().expect("finishing into a Vec cannot fail")
        }
        Encoding::Deflate => {
            let mut encoder = ZlibEncoder::new(out, Compression::default());
            encoder
                .write_all(body)
                .expect("writing to a Vec cannot fail");
            encoder.finish().expect("finishing into a Vec cannot fail")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::{GzDecoder, ZlibDecoder};

    use super::*;

    #[test]
    fn both_encodings_round_trip() {
        let body = b"{\"data\":\"".repeat(200);
        let mut decoded = Vec::new();
        GzDecoder::new(&encode(Encoding::Gzip, &body)[..])
            .read_to_end(&mut decoded)
            .expect("valid gzip");
        assert_eq!(decoded, body);
        decoded.clear();
        ZlibDecoder::new(&encode(Encoding::Deflate, &body)[..])
            .read_to_end(&mut decoded)
            .expect("valid zlib");
        assert_eq!(decoded, body);
    }
}
