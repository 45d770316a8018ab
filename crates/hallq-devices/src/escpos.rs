//! ESC/POS commands, as bytes. Only the dozen a ticket needs, each named after what it does;
//! firmware-notes/printers.md says why each is sent and what printers do with it.

use encoding_rs::GB18030;

pub const ESC: u8 = 0x1B;
pub const GS: u8 = 0x1D;
pub const FS: u8 = 0x1C;
pub const DLE: u8 = 0x10;
pub const EOT: u8 = 0x04;
pub const LF: u8 = 0x0A;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left = 0,
    Centre = 1,
    Right = 2,
}

/// QR error correction levels (GS ( k function 169).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QrCorrection {
    L = 48,
    M = 49,
    Q = 50,
    H = 51,
}

/// Builds a job's bytes.
#[derive(Default, Debug, Clone)]
pub struct Encoder {
    bytes: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// ESC @: reset modes left over from an earlier job.
    pub fn initialise(&mut self) -> &mut Self {
        self.raw(&[ESC, b'@'])
    }

    /// FS &: Chinese character mode; double-byte GB18030 codes print as Hanzi.
    pub fn chinese_mode(&mut self) -> &mut Self {
        self.raw(&[FS, b'&'])
    }

    /// ESC a n
    pub fn align(&mut self, align: Align) -> &mut Self {
        self.raw(&[ESC, b'a', align as u8])
    }

    /// ESC E n
    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.raw(&[ESC, b'E', u8::from(on)])
    }

    /// GS ! n: width and height multipliers 1..=8.
    pub fn size(&mut self, width: u8, height: u8) -> &mut Self {
        let w = width.clamp(1, 8) - 1;
        let h = height.clamp(1, 8) - 1;
        self.raw(&[GS, b'!', (w << 4) | h])
    }

    /// Text in GB18030, control characters removed so that text can never inject commands.
    pub fn text(&mut self, text: &str) -> &mut Self {
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        let (encoded, _, _) = GB18030.encode(&clean);
        self.raw(&encoded)
    }

    pub fn line(&mut self, text: &str) -> &mut Self {
        self.text(text).raw(&[LF])
    }

    /// ESC d n: feed n lines.
    pub fn feed(&mut self, lines: u8) -> &mut Self {
        self.raw(&[ESC, b'd', lines])
    }

    /// GS V 66 n: feed to the cutter plus n dots, then partial cut.
    pub fn cut(&mut self) -> &mut Self {
        self.raw(&[GS, b'V', 66, 0])
    }

    /// GS ( k: a Model 2 QR code printed by the printer itself.
    pub fn qr_native(
        &mut self,
        data: &str,
        module_dots: u8,
        correction: QrCorrection,
    ) -> &mut Self {
        let data = data.as_bytes();
        // Function 165: model 2.
        self.raw(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
        // Function 167: module size in dots.
        self.raw(&[GS, b'(', b'k', 3, 0, 49, 67, module_dots.clamp(1, 16)]);
        // Function 169: error correction level.
        self.raw(&[GS, b'(', b'k', 3, 0, 49, 69, correction as u8]);
        // Function 180: store the data (length + 3 bytes of function header).
        let length = data.len() + 3;
        self.raw(&[
            GS,
            b'(',
            b'k',
            (length % 256) as u8,
            (length / 256) as u8,
            49,
            80,
            48,
        ]);
        self.raw(data);
        // Function 181: print it.
        self.raw(&[GS, b'(', b'k', 3, 0, 49, 81, 48])
    }

    /// GS v 0: a raster image, `width_dots` wide, rows of packed bits (1 = black).
    pub fn raster(&mut self, width_dots: usize, rows: &[Vec<bool>]) -> &mut Self {
        let bytes_per_row = width_dots.div_ceil(8);
        let height = rows.len();
        self.raw(&[
            GS,
            b'v',
            b'0',
            0,
            (bytes_per_row % 256) as u8,
            (bytes_per_row / 256) as u8,
            (height % 256) as u8,
            (height / 256) as u8,
        ]);
        for row in rows {
            for chunk in 0..bytes_per_row {
                let mut byte = 0u8;
                for bit in 0..8 {
                    if row.get(chunk * 8 + bit).copied().unwrap_or(false) {
                        byte |= 0x80 >> bit;
                    }
                }
                self.bytes.push(byte);
            }
        }
        self
    }

    /// A QR code as a raster image, for printers without GS ( k.
    pub fn qr_raster(&mut self, data: &str, module_dots: usize) -> &mut Self {
        match qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M) {
            Ok(code) => {
                let width = code.width();
                let colors = code.to_colors();
                let quiet = 4;
                let dots = (width + 2 * quiet) * module_dots;
                let mut rows = Vec::with_capacity(dots);
                for y in 0..width + 2 * quiet {
                    let row: Vec<bool> = (0..width + 2 * quiet)
                        .flat_map(|x| {
                            let dark = x >= quiet
                                && y >= quiet
                                && x < width + quiet
                                && y < width + quiet
                                && colors[(y - quiet) * width + (x - quiet)] == qrcode::Color::Dark;
                            std::iter::repeat_n(dark, module_dots)
                        })
                        .collect();
                    for _ in 0..module_dots {
                        rows.push(row.clone());
                    }
                }
                self.raster(dots, &rows)
            }
            // Too long for a QR code: the ticket still prints, without it.
            Err(_) => self,
        }
    }
}

/// DLE EOT n: ask for real-time status n (1 printer, 2 offline cause, 4 roll paper).
pub fn status_request(n: u8) -> [u8; 3] {
    [DLE, EOT, n]
}
