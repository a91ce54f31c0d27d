//! Enrichment applied to events before rules see them.

use sonic_rs::JsonValueMutTrait;
use vigil_event::{Event, LogSource};
use vigil_intel::GeoDb;

/// Adds `vigil.geo.country`, `vigil.geo.asn` and `vigil.geo.as_org` for the event's source
/// IP when the geo database knows it. Only CloudTrail and S3 access records carry a caller
/// IP worth locating.
pub fn add_geo(event: &mut Event, geo: &GeoDb) {
    if !matches!(event.source, LogSource::CloudTrail | LogSource::S3Access) {
        return;
    }
    let Some(ip) = event.common().source_ip.map(str::to_string) else {
        return;
    };
    let Some(info) = geo.lookup(&ip) else {
        return;
    };
    let mut geo_object = sonic_rs::Object::new();
    geo_object.insert("country", sonic_rs::Value::from(info.country.as_str()));
    if let Some(asn) = info.asn {
        geo_object.insert("asn", sonic_rs::Value::from(asn));
    }
    if !info.as_org.is_empty() {
        geo_object.insert("as_org", sonic_rs::Value::from(info.as_org.as_str()));
    }
    let mut vigil = sonic_rs::Object::new();
    vigil.insert("geo", sonic_rs::Value::from(geo_object));
    if let Some(object) = event.doc.as_object_mut() {
        if !object.contains_key(&"vigil") {
            object.insert("vigil", sonic_rs::Value::from(vigil));
        }
    }
}
