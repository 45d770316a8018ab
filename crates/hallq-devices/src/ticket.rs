//! The paper ticket: what a citizen holds for an hour.

use crate::escpos::{Align, Encoder, QrCorrection};
use crate::text::wrap;

/// Roll width. Font A is 12 dots wide: 32 columns on 58 mm paper, 48 on 80 mm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaperWidth {
    Mm58,
    Mm80,
}

impl PaperWidth {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "58mm" => Some(PaperWidth::Mm58),
            "80mm" => Some(PaperWidth::Mm80),
            _ => None,
        }
    }

    pub fn columns(self) -> usize {
        match self {
            PaperWidth::Mm58 => 32,
            PaperWidth::Mm80 => 48,
        }
    }

    /// Printable dots per line (203 dpi heads).
    pub fn dots(self) -> usize {
        match self {
            PaperWidth::Mm58 => 384,
            PaperWidth::Mm80 => 576,
        }
    }
}

/// How the QR code is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QrMode {
    /// GS ( k, Model 2: the printer draws it (Epson TM, most Xprinter and Rongta).
    Native,
    /// GS v 0 raster image: for printers without GS ( k.
    Raster,
}

impl QrMode {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "native" => Some(QrMode::Native),
            "raster" => Some(QrMode::Raster),
            _ => None,
        }
    }
}

/// The hall's choices for its tickets.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketLayout {
    pub paper: PaperWidth,
    pub qr: QrMode,
    /// Lines at the bottom: opening hours, a hotline, a reminder.
    pub footer: Vec<String>,
    /// Under the QR code.
    pub qr_caption: String,
}

impl Default for TicketLayout {
    fn default() -> Self {
        Self {
            paper: PaperWidth::Mm80,
            qr: QrMode::Native,
            footer: Vec::new(),
            qr_caption: "微信或浏览器扫码查看排队进度".into(),
        }
    }
}

/// What goes on one ticket, already in words.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketContent {
    pub hall_name: String,
    pub service_name: String,
    /// A001
    pub number: String,
    /// e.g. 绿色通道 for priority tickets.
    pub priority_label: Option<String>,
    pub ahead: Option<usize>,
    /// The promised wait as a band in minutes (`(0, 0)`: any moment now).
    pub wait_minutes: Option<(u64, u64)>,
    /// Local time of issue, formatted by the caller.
    pub issued_at: String,
    /// The ticket's status page (/t/{token}) as a full URL; no QR code when absent.
    pub status_url: Option<String>,
}

const NUMBER_SIZE: u8 = 3;

fn wrapped_lines(encoder: &mut Encoder, text: &str, columns: usize) {
    for line in wrap(text, columns) {
        encoder.line(&line);
    }
}

fn qr(encoder: &mut Encoder, layout: &TicketLayout, url: &str) {
    encoder.align(Align::Centre);
    match layout.qr {
        QrMode::Native => {
            encoder.qr_native(url, 6, QrCorrection::M);
        }
        QrMode::Raster => {
            // 5 dots per module keeps a ~45-module code (with quiet zone) under 58 mm.
            encoder.qr_raster(
                url,
                if layout.paper == PaperWidth::Mm58 {
                    4
                } else {
                    5
                },
            );
        }
    }
    encoder.raw(&[crate::escpos::LF]);
}

/// Renders a ticket. The bytes start with a reset and end with a cut, so a job never inherits
/// modes from an earlier one.
pub fn render_ticket(content: &TicketContent, layout: &TicketLayout) -> Vec<u8> {
    let columns = layout.paper.columns();
    let mut encoder = Encoder::new();
    encoder.initialise().chinese_mode().align(Align::Centre);
    encoder.bold(true);
    wrapped_lines(&mut encoder, &content.hall_name, columns);
    encoder.bold(false).feed(1);
    encoder.size(2, 2);
    wrapped_lines(&mut encoder, &content.service_name, columns / 2);
    encoder.size(NUMBER_SIZE, NUMBER_SIZE).bold(true);
    encoder.line(&content.number);
    encoder.bold(false).size(1, 1);
    if let Some(label) = &content.priority_label {
        encoder.line(&format!("【{label}】"));
    }
    if let Some(ahead) = content.ahead {
        encoder.line(&format!("您前面还有 {ahead} 人等候"));
    }
    if let Some((low, high)) = content.wait_minutes {
        let line = if high == 0 {
            "即将叫号，请留意叫号屏幕".to_owned()
        } else {
            format!("预计等候约 {low}–{high} 分钟")
        };
        encoder.line(&line);
    }
    encoder.line(&format!("取号时间 {}", content.issued_at));
    if let Some(url) = &content.status_url {
        encoder.feed(1);
        qr(&mut encoder, layout, url);
        wrapped_lines(&mut encoder, &layout.qr_caption, columns);
    }
    if !layout.footer.is_empty() {
        encoder.feed(1).align(Align::Left);
        for line in &layout.footer {
            wrapped_lines(&mut encoder, line, columns);
        }
    }
    encoder.feed(3).cut();
    encoder.into_bytes()
}

/// The installer's test ticket: Chinese, Latin, a large number and a QR code, so that one look
/// tells whether wiring, code page and QR support are right.
pub fn render_test_ticket(layout: &TicketLayout, now: &str) -> Vec<u8> {
    let columns = layout.paper.columns();
    let mut encoder = Encoder::new();
    encoder
        .initialise()
        .chinese_mode()
        .align(Align::Centre)
        .bold(true);
    encoder.line("hallq 打印测试 Print test").bold(false);
    wrapped_lines(&mut encoder, "中文显示正常：政务服务大厅排队叫号", columns);
    encoder.line(&"-".repeat(columns));
    encoder
        .size(NUMBER_SIZE, NUMBER_SIZE)
        .line("A001")
        .size(1, 1);
    encoder.line(&format!(
        "{} mm / {columns} columns",
        if layout.paper == PaperWidth::Mm58 {
            58
        } else {
            80
        }
    ));
    encoder.line(now);
    qr(&mut encoder, layout, "hallq print test 打印测试");
    encoder.line("扫码应显示 hallq print test");
    encoder.feed(3).cut();
    encoder.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{describe, printed_lines};
    use crate::text::columns;

    fn content() -> TicketContent {
        TicketContent {
            hall_name: "江州市政务服务中心".into(),
            service_name: "不动产权证书领取与查询".into(),
            number: "G012".into(),
            priority_label: None,
            ahead: Some(5),
            wait_minutes: Some((15, 25)),
            issued_at: "2026-11-27 09:31".into(),
            status_url: Some("http://192.168.1.10:8080/t/0123456789abcdef0123456789abcdef".into()),
        }
    }

    fn layout(paper: PaperWidth, qr: QrMode) -> TicketLayout {
        TicketLayout {
            paper,
            qr,
            footer: vec![
                "工作日 8:30-12:00 13:30-17:30，过号请到服务台重新排队。Hotline 12345".into(),
            ],
            ..TicketLayout::default()
        }
    }

    #[test]
    fn golden_ticket_80mm_native_qr() {
        let bytes = render_ticket(&content(), &layout(PaperWidth::Mm80, QrMode::Native));
        insta::assert_snapshot!("ticket_80mm_native_qr", describe(&bytes).unwrap());
        // The raw bytes too, so that a change of encoding cannot hide behind the decoder.
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        insta::assert_snapshot!("ticket_80mm_native_qr_hex", hex);
    }

    #[test]
    fn golden_ticket_58mm_raster_qr() {
        let mut content = content();
        content.priority_label = Some("绿色通道".into());
        let bytes = render_ticket(&content, &layout(PaperWidth::Mm58, QrMode::Raster));
        insta::assert_snapshot!("ticket_58mm_raster_qr", describe(&bytes).unwrap());
    }

    #[test]
    fn chinese_comes_back_and_lines_fit_the_paper() {
        for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
            let bytes = render_ticket(&content(), &layout(paper, QrMode::Native));
            let lines = printed_lines(&bytes).unwrap();
            assert!(lines.contains(&"江州市政务服务中心".to_owned()));
            assert!(lines.contains(&"G012".to_owned()));
            assert!(lines.contains(&"您前面还有 5 人等候".to_owned()));
            assert!(lines.contains(&"预计等候约 15–25 分钟".to_owned()));
            // Normal-size lines fit the paper; the service name (double width) fits half.
            for line in &lines {
                assert!(columns(line) <= paper.columns(), "{line} on {paper:?}");
            }
            let service: Vec<&String> = lines
                .iter()
                .filter(|l| l.contains("不动产") || l.contains("查询"))
                .collect();
            assert!(
                service.iter().all(|l| columns(l) <= paper.columns() / 2),
                "{service:?}"
            );
            assert_eq!(
                service.iter().map(|s| s.as_str()).collect::<String>(),
                "不动产权证书领取与查询"
            );
        }
    }

    #[test]
    fn control_characters_in_names_cannot_inject_commands() {
        let mut content = content();
        content.hall_name = "大厅\u{1b}@\u{1d}V\u{0}".into();
        let bytes = render_ticket(&content, &layout(PaperWidth::Mm80, QrMode::Native));
        let lines = printed_lines(&bytes).unwrap();
        assert!(lines.contains(&"大厅@V".to_owned()), "{lines:?}");
    }

    /// Finds the GS v 0 image in a job and reads it back as rows of dots.
    fn raster_image(bytes: &[u8]) -> (usize, usize, Vec<bool>) {
        let at = bytes
            .windows(4)
            .position(|w| w == [0x1D, b'v', b'0', 0])
            .expect("a raster image");
        let header = &bytes[at..at + 8];
        let bytes_per_row = usize::from(header[4]) + 256 * usize::from(header[5]);
        let height = usize::from(header[6]) + 256 * usize::from(header[7]);
        let data = &bytes[at + 8..at + 8 + bytes_per_row * height];
        let width = bytes_per_row * 8;
        let dots = (0..height * width)
            .map(|i| data[(i / width) * bytes_per_row + (i % width) / 8] & (0x80 >> (i % 8)) != 0)
            .collect();
        (width, height, dots)
    }

    #[test]
    fn the_raster_qr_code_scans_back_to_the_status_page() {
        for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
            let bytes = render_ticket(&content(), &layout(paper, QrMode::Raster));
            let (width, height, dots) = raster_image(&bytes);
            assert!(width <= paper.dots(), "the QR code fits on {paper:?}");
            let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
                if dots[y * width + x] {
                    0
                } else {
                    255
                }
            });
            let grids = image.detect_grids();
            assert_eq!(grids.len(), 1, "one QR code on {paper:?}");
            let (_, decoded) = grids[0].decode().expect("the QR code decodes");
            assert_eq!(decoded, content().status_url.unwrap());
        }
    }

    #[test]
    fn the_test_ticket_has_chinese_and_a_qr_code() {
        let bytes = render_test_ticket(&TicketLayout::default(), "2026-11-27 10:00");
        let text = describe(&bytes).unwrap();
        assert!(text.contains("中文显示正常"));
        assert!(text.contains("[qr data hallq print test 打印测试]"));
        assert!(text.ends_with("[cut]"));
    }
}
