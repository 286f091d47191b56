//! QR codes in PNG images (`qr-code`): phishing that moves the link onto the reader's phone
//! ("quishing"), out of reach of link checks on the desktop.
//!
//! Decoding an image costs milliseconds, so it runs only when the message speaks of a QR
//! code or of scanning, on at most [`MAX_IMAGES`] PNG images of at most [`MAX_IMAGE_BYTES`]
//! and [`MAX_PIXELS`].

use std::io::Cursor;

/// PNG images decoded per message.
pub const MAX_IMAGES: usize = 3;
/// Encoded size of an image worth decoding.
pub const MAX_IMAGE_BYTES: usize = 1 << 20;
/// Pixels of an image worth decoding.
pub const MAX_PIXELS: usize = 2_000_000;

/// Words that announce a QR code (any case; English, Portuguese, Spanish, French, German).
const QR_WORDS: &[&str] = &[
    "qr", "scan", "escaneie", "escanear", "escanee", "scannez", "scannen",
];

/// True when `text` mentions a QR code or scanning, as a whole word.
pub fn mentions_qr(text: &str) -> bool {
    let lower = text.to_lowercase();
    QR_WORDS
        .iter()
        .any(|w| super::brands::contains_words(&lower, w))
}

/// The text of the first QR code found in a PNG image, if any.
pub fn decode_png(data: &[u8]) -> Option<String> {
    if !data.starts_with(b"\x89PNG") || data.len() > MAX_IMAGE_BYTES {
        return None;
    }
    let mut decoder =
        png::Decoder::new_with_limits(Cursor::new(data), png::Limits { bytes: 16 << 20 });
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().ok()?;
    let (w, h) = {
        let info = reader.info();
        (info.width as usize, info.height as usize)
    };
    if w.saturating_mul(h) > MAX_PIXELS || w < 21 || h < 21 {
        return None;
    }
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    let channels = match info.color_type {
        png::ColorType::Grayscale | png::ColorType::Indexed => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
    };
    let line = info.line_size;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let at = y * line + x * channels;
        if channels < 3 {
            buf.get(at).copied().unwrap_or(255)
        } else {
            let c = |i: usize| u32::from(buf.get(at + i).copied().unwrap_or(255));
            u8::try_from((c(0) * 30 + c(1) * 59 + c(2) * 11) / 100).unwrap_or(255)
        }
    });
    image
        .detect_grids()
        .into_iter()
        .take(4)
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_garbage() {
        assert!(mentions_qr("Scan the QR code below"));
        assert!(!mentions_qr("a scanner in the office")); // "scanner" is not "scan"
        assert_eq!(decode_png(b"\x89PNG garbage"), None);
        assert_eq!(decode_png(b"GIF89a"), None);
    }
}
