//! Splitting a delimited line into fields with csv-core (quotes and doubled quotes as CSV writes
//! them), into buffers kept for the whole upload so a line allocates nothing.

use csv_core::{ReadFieldResult, Reader, ReaderBuilder};

#[derive(Default)]
pub struct FieldBuf {
    text: Vec<u8>,
    ends: Vec<usize>,
    /// The reader for the last delimiter: building one builds its automaton, which costs more than
    /// reading a line, so it is built once and reset for each line.
    reader: Option<(u8, Reader)>,
}

/// A line's fields, borrowed from the buffer.
pub struct Fields<'a> {
    text: &'a str,
    ends: &'a [usize],
}

impl<'a> Fields<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The `index`th field (from 0), or empty when the line is shorter.
    pub fn get(&self, index: usize) -> &'a str {
        let Some(&end) = self.ends.get(index) else {
            return "";
        };
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.text[start..end]
    }
}

impl FieldBuf {
    /// The fields of `line` separated by `delimiter`. A quote left open takes the rest of the line
    /// into its field, so the line comes up short of fields and its format refuses it.
    pub fn split<'a>(&'a mut self, line: &str, delimiter: u8) -> Result<Fields<'a>, String> {
        let reader = match &mut self.reader {
            Some((built_for, reader)) if *built_for == delimiter => {
                reader.reset();
                reader
            }
            slot => {
                &mut slot
                    .insert((delimiter, ReaderBuilder::new().delimiter(delimiter).build()))
                    .1
            }
        };
        self.text.clear();
        self.ends.clear();
        // Unquoting only removes bytes, so the line's length is always room enough.
        self.text.resize(line.len(), 0);
        let (mut input, mut written) = (line.as_bytes(), 0);
        loop {
            let (result, read, wrote) = reader.read_field(input, &mut self.text[written..]);
            input = &input[read..];
            written += wrote;
            match result {
                ReadFieldResult::Field { record_end } => {
                    self.ends.push(written);
                    if record_end {
                        break;
                    }
                }
                ReadFieldResult::InputEmpty => {
                    // The line is all there is: end it as if a newline followed.
                    if input.is_empty() {
                        let (result, _, wrote) = reader.read_field(&[], &mut self.text[written..]);
                        written += wrote;
                        if let ReadFieldResult::Field { .. } = result {
                            self.ends.push(written);
                        }
                        break;
                    }
                }
                ReadFieldResult::OutputFull => return Err("a field is longer than its line".into()),
                ReadFieldResult::End => break,
            }
        }
        self.text.truncate(written);
        // Removing ASCII quotes from UTF-8 leaves UTF-8.
        let text = std::str::from_utf8(&self.text).map_err(|_| "not UTF-8 after unquoting".to_string())?;
        Ok(Fields {
            text,
            ends: &self.ends,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str, delimiter: u8) -> Result<Vec<String>, String> {
        let mut buf = FieldBuf::default();
        let fields = buf.split(line, delimiter)?;
        Ok((0..fields.len())
            .map(|index| fields.get(index).to_owned())
            .collect())
    }

    #[test]
    fn quoted_fields_lose_their_quotes_and_keep_their_commas() {
        assert_eq!(
            split(r#""a, b","say ""hi""",,last"#, b',').unwrap(),
            ["a, b", "say \"hi\"", "", "last"]
        );
        assert_eq!(split("x\ty\t-", b'\t').unwrap(), ["x", "y", "-"]);
        assert_eq!(split("only", b',').unwrap(), ["only"]);
    }

    #[test]
    fn an_unclosed_quote_takes_the_rest_of_the_line() {
        assert_eq!(split(r#""open,field,x"#, b',').unwrap(), ["open,field,x"]);
    }
}
