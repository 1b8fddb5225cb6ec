//! A flow log's record format: the ordered list of fields each line carries, known or not.

use std::fmt;

use crate::field::{DEFAULT_FORMAT, FieldId, column_name, strip_token};

/// One slot of a record format.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    Known(FieldId),
    /// A field flowwatch does not know (a newer AWS field): kept as a string column named
    /// [`Slot::column`].
    Unknown(String),
}

impl Slot {
    /// The hyphen form of the name, as in an S3 header.
    pub fn name(&self) -> &str {
        match self {
            Slot::Known(id) => id.name(),
            Slot::Unknown(name) => name,
        }
    }

    /// The Parquet / Athena column name.
    pub fn column(&self) -> String {
        match self {
            Slot::Known(id) => id.column().to_string(),
            Slot::Unknown(name) => column_name(name),
        }
    }
}

/// An ordered record format.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LogFormat {
    slots: Vec<Slot>,
}

/// Why a format string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    #[error("the format is empty: expected field names such as '${{version}} ${{srcaddr}}'")]
    Empty,
    #[error("'{0}' is not a field name: expected lowercase letters, digits, '-' or '_'")]
    BadName(String),
    #[error("field '{0}' appears twice in the format")]
    Duplicate(String),
}

impl LogFormat {
    /// The default v2 format.
    pub fn default_v2() -> LogFormat {
        LogFormat {
            slots: DEFAULT_FORMAT.iter().map(|&f| Slot::Known(f)).collect(),
        }
    }

    pub fn from_fields(fields: &[FieldId]) -> LogFormat {
        LogFormat {
            slots: fields.iter().map(|&f| Slot::Known(f)).collect(),
        }
    }

    /// Parse a format as AWS shows it (`${version} ${vpc-id} …`), as an S3 header line
    /// (`version vpc-id …`) or with Parquet names (`version vpc_id …`). Names are normalised to the
    /// hyphen form for known fields.
    pub fn parse(s: &str) -> Result<LogFormat, FormatError> {
        let mut slots: Vec<Slot> = Vec::new();
        for token in s.split_ascii_whitespace() {
            let bare = strip_token(token);
            if !is_field_name(bare) {
                return Err(FormatError::BadName(token.to_string()));
            }
            let slot = match FieldId::lookup(bare) {
                Some(id) => Slot::Known(id),
                None => Slot::Unknown(bare.replace('_', "-")),
            };
            if slots.contains(&slot) {
                return Err(FormatError::Duplicate(bare.to_string()));
            }
            slots.push(slot);
        }
        if slots.is_empty() {
            return Err(FormatError::Empty);
        }
        Ok(LogFormat { slots })
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The version AWS writes for this format: the highest version among its known fields.
    pub fn version(&self) -> u8 {
        self.slots
            .iter()
            .filter_map(|s| match s {
                Slot::Known(id) => Some(id.def().version),
                Slot::Unknown(_) => None,
            })
            .max()
            .unwrap_or(2)
    }

    /// The header line AWS writes at the top of an S3 text object for this format.
    pub fn header(&self) -> String {
        let names: Vec<&str> = self.slots.iter().map(Slot::name).collect();
        names.join(" ")
    }

    /// The `${…}` form `describe-flow-logs` prints.
    pub fn aws_log_format(&self) -> String {
        let names: Vec<String> = self
            .slots
            .iter()
            .map(|s| format!("${{{}}}", s.name()))
            .collect();
        names.join(" ")
    }

    pub fn contains(&self, id: FieldId) -> bool {
        self.slots.contains(&Slot::Known(id))
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header())
    }
}

/// A field name as AWS spells them: lowercase ASCII letters, digits, `-` and `_`, starting with a
/// letter. Used to tell a header line from a record.
pub fn is_field_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling_of_a_format() {
        let aws = LogFormat::parse("${version} ${vpc-id} ${pkt-srcaddr} ${future-field}").unwrap();
        let header = LogFormat::parse("version vpc-id pkt-srcaddr future-field").unwrap();
        let parquet = LogFormat::parse("version vpc_id pkt_srcaddr future_field").unwrap();
        assert_eq!(aws, header);
        assert_eq!(aws, parquet);
        assert_eq!(aws.version(), 3);
        assert_eq!(aws.header(), "version vpc-id pkt-srcaddr future-field");
        assert_eq!(
            aws.aws_log_format(),
            "${version} ${vpc-id} ${pkt-srcaddr} ${future-field}"
        );
        assert_eq!(aws.slots()[3].column(), "future_field");
    }

    #[test]
    fn refuses_bad_formats() {
        assert_eq!(LogFormat::parse("  "), Err(FormatError::Empty));
        assert!(matches!(
            LogFormat::parse("version 10.0.0.1"),
            Err(FormatError::BadName(_))
        ));
        assert!(matches!(
            LogFormat::parse("srcaddr srcaddr"),
            Err(FormatError::Duplicate(_))
        ));
    }

    #[test]
    fn default_is_v2() {
        let f = LogFormat::default_v2();
        assert_eq!(f.version(), 2);
        assert_eq!(
            f.header(),
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
        );
    }
}
