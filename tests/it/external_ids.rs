use integra::Error;
use serde_json::json;

use crate::support::TestEngine;

#[test]
fn mappings_are_unique_both_ways_within_a_system_and_type() {
    let t = TestEngine::new(&json!({}));
    let e = &t.engine;
    e.set_external_id("WMS", "Номенклатура", "ref-1", "SKU-100")
        .unwrap();
    e.set_external_id("CRM", "Номенклатура", "ref-1", "SKU-100")
        .unwrap();
    e.set_external_id("WMS", "Контрагенты", "ref-9", "SKU-100")
        .unwrap();
    assert_eq!(
        e.external_id("WMS", "Номенклатура", "ref-1")
            .unwrap()
            .as_deref(),
        Some("SKU-100")
    );
    assert_eq!(
        e.find_by_external_id("WMS", "Номенклатура", "SKU-100")
            .unwrap()
            .as_deref(),
        Some("ref-1")
    );
    assert_eq!(
        e.find_by_external_id("WMS", "Контрагенты", "SKU-100")
            .unwrap()
            .as_deref(),
        Some("ref-9")
    );
    assert_eq!(e.external_id("WMS", "Номенклатура", "ref-2").unwrap(), None);

    let err = e
        .set_external_id("WMS", "Номенклатура", "ref-2", "SKU-100")
        .unwrap_err();
    assert!(
        matches!(err, Error::ExternalIdTaken { ref taken_by, .. } if taken_by == "ref-1"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "external id 'SKU-100' of system 'WMS', type 'Номенклатура' is already mapped to local key 'ref-1'"
    );

    // Re-mapping a key replaces its external id and frees the old one.
    e.set_external_id("WMS", "Номенклатура", "ref-1", "SKU-101")
        .unwrap();
    assert_eq!(
        e.find_by_external_id("WMS", "Номенклатура", "SKU-100")
            .unwrap(),
        None
    );
    e.set_external_id("WMS", "Номенклатура", "ref-2", "SKU-100")
        .unwrap();
    assert!(
        e.remove_external_id("WMS", "Номенклатура", "ref-2")
            .unwrap()
    );
    assert!(
        !e.remove_external_id("WMS", "Номенклатура", "ref-2")
            .unwrap()
    );

    let err = e.set_external_id("", "T", "k", "x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid system: must be 1 to 1024 characters"
    );
}
