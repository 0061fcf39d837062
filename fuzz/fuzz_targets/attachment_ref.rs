//! Attachment references as phones send them in a save (`attach` of a push) and
//! keep in backups: JSON to `AttachmentRef`, then `AttachmentRef::problem` against
//! the seed form (crates/core/src/report.rs), the check the server runs on every
//! save and the phone before it stores a photo; and `attachment_name`, which makes
//! a phone's file name fit to keep.
#![no_main]

use danvan_core::report::{
    attachment_name, is_plain_id, is_sha256_hex, AttachmentRef, ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENT_NAME_CHARS,
};
use danvan_fuzz::{assert_json_round_trip, seed_form, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let form = seed_form();
    if let Ok(a) = serde_json::from_slice::<AttachmentRef>(data) {
        assert_json_round_trip(&a);
        match a.problem(form) {
            None => {
                // Kept: safe in a URL, a type we serve as itself, a real digest.
                assert!(is_plain_id(&a.id), "{a:?}");
                assert!(ATTACHMENT_TYPES.contains(&a.mime.as_str()));
                assert!(is_sha256_hex(&a.sha256));
                assert!((1..=MAX_ATTACHMENT_BYTES).contains(&a.size));
                assert!(!a.name.trim().is_empty() && !a.name.chars().any(char::is_control));
                assert!(form.sections.iter().any(|s| s.id == a.section));
                // The phone cleans names before keeping them; a kept name is clean.
                assert_eq!(attachment_name(&a.name), a.name.trim());
            }
            Some(message) => assert!(message.starts_with("Tệp đính kèm «"), "{message}"),
        }
    }
    let Some(raw) = text(data) else { return };
    let name = attachment_name(raw);
    assert!(!name.is_empty() && name.chars().count() <= MAX_ATTACHMENT_NAME_CHARS);
    assert_eq!(attachment_name(&name), name, "cleaning a clean name changes nothing");
    // Whatever the phone gave, the cleaned name passes the server's name check.
    let good = AttachmentRef {
        id: "a1".into(),
        section: form.sections[0].id.clone(),
        name,
        mime: ATTACHMENT_TYPES[0].into(),
        size: 1,
        sha256: "0".repeat(64),
    };
    assert_eq!(good.problem(form), None, "{good:?}");
});
