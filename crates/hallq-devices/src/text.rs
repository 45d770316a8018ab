//! Column widths and wrapping for receipt paper: a CJK character takes two columns, Latin one.

use unicode_width::UnicodeWidthChar;

/// Columns a string occupies on the printer's font A.
pub fn columns(text: &str) -> usize {
    text.chars().map(char_columns).sum()
}

fn char_columns(c: char) -> usize {
    // Control characters are never printed; everything else is one or two columns.
    c.width().unwrap_or(0).min(2)
}

/// Wraps `text` into lines of at most `width` columns. Latin words stay whole when they fit on
/// a line; CJK text breaks between any two characters; nothing is ever lost.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(2);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_columns = 0;
        for token in tokens(paragraph) {
            let token_columns = columns(&token);
            if line_columns + token_columns <= width {
                line.push_str(&token);
                line_columns += token_columns;
                continue;
            }
            if token.trim().is_empty() {
                // A space at the end of a line is dropped.
                lines.push(std::mem::take(&mut line).trim_end().to_owned());
                line_columns = 0;
                continue;
            }
            if line_columns > 0 && token_columns <= width {
                lines.push(std::mem::take(&mut line).trim_end().to_owned());
                line = token;
                line_columns = token_columns;
                continue;
            }
            // Too long for any line: break it by characters.
            for c in token.chars() {
                let c_columns = char_columns(c);
                if line_columns + c_columns > width {
                    lines.push(std::mem::take(&mut line).trim_end().to_owned());
                    line_columns = 0;
                }
                line.push(c);
                line_columns += c_columns;
            }
        }
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// Splits into breakable units: a run of Latin letters/digits, one space, or one other char.
fn tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ',' | ':' | '/' | '(' | ')') {
            word.push(c);
        } else {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            tokens.push(c.to_string());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

/// Pads `text` on the left so that it is centred in `width` columns (for printers without
/// alignment support, and for tests).
pub fn centre(text: &str, width: usize) -> String {
    let padding = width.saturating_sub(columns(text)) / 2;
    format!("{}{}", " ".repeat(padding), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(columns("A001"), 4);
        assert_eq!(columns("涉税综合业务"), 12);
        assert_eq!(columns("3号窗口 Window 3"), 16);
        assert_eq!(columns("，。"), 4);
    }

    #[test]
    fn wrapping_table() {
        let cases: &[(&str, usize, &[&str])] = &[
            ("short", 32, &["short"]),
            (
                "请您留意大厅叫号屏幕和短信通知",
                16,
                &["请您留意大厅叫号", "屏幕和短信通知"],
            ),
            (
                "Please watch the screens in the hall",
                16,
                &["Please watch the", "screens in the", "hall"],
            ),
            (
                "扫码查看 queue status 排队进度",
                12,
                &["扫码查看", "queue status", "排队进度"],
            ),
            (
                "超长英文abcdefghijklmnopqrstuvwxyz",
                10,
                &["超长英文ab", "cdefghijkl", "mnopqrstuv", "wxyz"],
            ),
            ("一\n二", 32, &["一", "二"]),
            ("", 32, &[""]),
        ];
        for (text, width, expected) in cases {
            let lines = wrap(text, *width);
            assert_eq!(&lines, expected, "{text:?} at {width}");
            assert!(lines.iter().all(|l| columns(l) <= *width));
        }
    }

    #[test]
    fn wrapping_never_loses_text() {
        let text = "工作日 8:30-12:00 13:30-17:30，周六上午办理部分即办件。Weekend: 9:00-12:00.";
        for width in 2..40 {
            let joined: String = wrap(text, width).concat();
            let original: String = text.chars().filter(|c| *c != ' ').collect();
            let wrapped: String = joined.chars().filter(|c| *c != ' ').collect();
            assert_eq!(original, wrapped, "width {width}");
        }
    }
}
