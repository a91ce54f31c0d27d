//! IP geolocation from a CSV table: `cidr,country,asn,as_org`.

use std::path::Path;

use crate::prefix::{parse_address, IpPrefix, PrefixTable};
use crate::IntelError;

/// Where an address is: its country and autonomous system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeoInfo {
    /// ISO 3166 country code as written (`US`).
    pub country: String,
    /// Autonomous system number (`AS16509` and `16509` both read as 16509).
    pub asn: Option<u32>,
    /// The organisation owning the AS.
    pub as_org: String,
}

/// A geolocation table; the longest network containing an address wins.
#[derive(Debug, Clone, Default)]
pub struct GeoDb {
    networks: PrefixTable<usize>,
    infos: Vec<GeoInfo>,
}

impl GeoDb {
    /// Reads a `cidr,country,asn,as_org` CSV file (header line optional, `#` comments
    /// allowed). Bad rows are returned as errors and skipped; an unreadable file is one error
    /// and an empty table.
    pub fn load(path: &Path) -> (GeoDb, Vec<IntelError>) {
        match std::fs::read(path) {
            Ok(bytes) => GeoDb::from_csv(path, &bytes),
            Err(error) => (GeoDb::default(), vec![IntelError::new(path, 0, error)]),
        }
    }

    /// Parses the CSV content of `file`.
    pub fn from_csv(file: &Path, bytes: &[u8]) -> (GeoDb, Vec<IntelError>) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .comment(Some(b'#'))
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let mut db = GeoDb::default();
        let mut errors = Vec::new();
        for (index, record) in reader.records().enumerate() {
            let result = record.map_err(|e| (e.position().map_or(0, |p| p.line()), e.to_string()));
            let row = result.and_then(|record| db.add_row(index == 0, &record));
            if let Err((line, reason)) = row {
                errors.push(IntelError::new(file, line as usize, reason));
            }
        }
        (db, errors)
    }

    fn add_row(&mut self, first: bool, record: &csv::StringRecord) -> Result<(), (u64, String)> {
        let line = record.position().map_or(0, |p| p.line());
        let field = |index: usize| record.get(index).unwrap_or("");
        if first && field(0).eq_ignore_ascii_case("cidr") {
            return Ok(());
        }
        let prefix = IpPrefix::parse(field(0)).map_err(|reason| (line, reason))?;
        if field(1).is_empty() {
            return Err((line, "missing country".to_string()));
        }
        let asn = parse_asn(field(2)).map_err(|reason| (line, reason))?;
        let info = GeoInfo {
            country: field(1).to_string(),
            asn,
            as_org: field(3).to_string(),
        };
        if self.networks.insert(prefix, self.infos.len()) {
            self.infos.push(info);
        }
        Ok(())
    }

    /// The location of `ip`, from the most specific network that contains it.
    pub fn lookup(&self, ip: &str) -> Option<&GeoInfo> {
        let index = *self.networks.longest_match(parse_address(ip)?)?;
        self.infos.get(index)
    }

    /// The number of networks.
    pub fn len(&self) -> usize {
        self.infos.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }
}

fn parse_asn(text: &str) -> Result<Option<u32>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let digits = text
        .strip_prefix("AS")
        .or_else(|| text.strip_prefix("as"))
        .unwrap_or(text);
    digits
        .parse::<u32>()
        .map(Some)
        .map_err(|_| format!("invalid ASN `{text}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "cidr,country,asn,as_org\n\
        # comment\n\
        3.0.0.0/8,US,AS16509,\"Amazon.com, Inc.\"\n\
        3.120.0.0/14,DE,16509,Amazon Frankfurt\n\
        2a05:d000::/25,IE,16509,Amazon Dublin\n\
        198.51.100.0/24,NL,,\n";

    fn db() -> GeoDb {
        let (db, errors) = GeoDb::from_csv(Path::new("geo.csv"), TABLE.as_bytes());
        assert_eq!(errors, vec![]);
        db
    }

    #[test]
    fn longest_prefix_wins() {
        let db = db();
        assert_eq!(
            db.lookup("3.121.0.1").map(|g| g.country.as_str()),
            Some("DE")
        );
        let us = db.lookup("3.5.0.1").unwrap();
        assert_eq!(
            (us.country.as_str(), us.asn, us.as_org.as_str()),
            ("US", Some(16509), "Amazon.com, Inc.")
        );
        assert_eq!(
            db.lookup("2a05:d000::1").map(|g| g.country.as_str()),
            Some("IE")
        );
        assert_eq!(db.lookup("198.51.100.255").map(|g| g.asn), Some(None));
        assert_eq!(db.lookup("4.0.0.1"), None);
        assert_eq!(db.lookup("not an ip"), None);
        assert_eq!(db.len(), 4);
    }

    #[test]
    fn header_is_optional_and_bad_rows_are_reported() {
        let text =
            "10.0.0.0/8,ZZ,1,private\n10.0.0.0/33,ZZ,1,x\n11.0.0.0/8,,1,x\n12.0.0.0/8,US,ASX,x\n";
        let (db, errors) = GeoDb::from_csv(Path::new("g.csv"), text.as_bytes());
        assert_eq!(db.len(), 1);
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4]);
        assert!(errors[2].reason.contains("ASX"));
    }

    #[test]
    fn a_missing_file_is_one_error() {
        let (db, errors) = GeoDb::load(Path::new("/nonexistent/geo.csv"));
        assert!(db.is_empty());
        assert_eq!(errors.len(), 1);
    }
}
