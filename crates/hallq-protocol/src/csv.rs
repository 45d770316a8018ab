//! The one CSV writer: what Excel on a government PC opens correctly (a UTF-8 byte order mark,
//! CRLF line ends), with every field escaped and formula injection neutralised — a cell that
//! starts with `=`, `+`, `-`, `@` (or a tab or carriage return) is prefixed with `'`, so that a
//! citizen's comment or a service name can never run as a spreadsheet formula.

/// Builds a CSV document row by row.
pub struct CsvWriter {
    text: String,
}

impl Default for CsvWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvWriter {
    pub fn new() -> Self {
        Self {
            text: String::from("\u{feff}"),
        }
    }

    /// Appends one row.
    pub fn row<I, S>(&mut self, fields: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut first = true;
        for field in fields {
            if !first {
                self.text.push(',');
            }
            first = false;
            push_field(&mut self.text, field.as_ref());
        }
        self.text.push_str("\r\n");
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.text.into_bytes()
    }

    pub fn into_string(self) -> String {
        self.text
    }
}

fn push_field(out: &mut String, field: &str) {
    let formula = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    // A plain negative number is data, not a formula: leave it as it is.
    let number = field.starts_with('-') && field[1..].parse::<f64>().is_ok();
    let neutralised = if formula && !number {
        format!("'{field}")
    } else {
        field.to_owned()
    };
    if neutralised.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&neutralised.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&neutralised);
    }
}

#[cfg(test)]
mod tests {
    use super::CsvWriter;

    #[test]
    fn fields_are_escaped_and_formulas_neutralised() {
        let mut csv = CsvWriter::new();
        csv.row(["事项", "说明"])
            .row(["a,b", "say \"hi\""])
            .row(["=HYPERLINK(\"http://x\")", "+1"])
            .row(["@SUM(A1)", "-2"])
            .row(["-cmd|' /C calc'!A0", "line\nbreak"]);
        let text = csv.into_string();
        assert_eq!(
            text,
            "\u{feff}事项,说明\r\n\
             \"a,b\",\"say \"\"hi\"\"\"\r\n\
             \"'=HYPERLINK(\"\"http://x\"\")\",'+1\r\n\
             '@SUM(A1),-2\r\n\
             '-cmd|' /C calc'!A0,\"line\nbreak\"\r\n"
        );
    }
}
