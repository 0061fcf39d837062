//! What people type at sign-in, enrolment and in account forms, checked by
//! crates/core/src/account.rs on the phone and on the server: enrolment codes as
//! typed or scanned from a link (`normalize_enrolment_code`,
//! `code_from_fragment`), usernames, the password policy and role names from
//! import files. The input is `username NUL password` (no NUL: both the same).
#![no_main]

use danvan_core::account::{
    check_password, check_password_shape, check_username, code_from_fragment, enrolment_link, format_enrolment_code,
    is_common_password, normalize_enrolment_code, normalize_username, parse_role, role_code, ENROLMENT_ALPHABET,
    ENROLMENT_CODE_LEN, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN,
};
use danvan_fuzz::text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(s) = text(data) else { return };
    let (username, password) = s.split_once('\0').unwrap_or((s, s));

    for typed in [s, username, password] {
        if let Some(code) = normalize_enrolment_code(typed) {
            assert_eq!(code.len(), ENROLMENT_CODE_LEN);
            assert!(code.bytes().all(|b| ENROLMENT_ALPHABET.contains(&b)));
            let printed = format_enrolment_code(&code);
            assert_eq!(normalize_enrolment_code(&printed).as_deref(), Some(code.as_str()));
            let link = enrolment_link("https://danvan.example/", &code);
            let fragment = link.split_once('#').map(|(_, f)| f).expect("the code travels in the fragment");
            assert_eq!(code_from_fragment(fragment).as_deref(), Some(code.as_str()));
        }
        if let Some(code) = code_from_fragment(typed) {
            assert_eq!(normalize_enrolment_code(&code).as_deref(), Some(code.as_str()));
        }
        if let Some(role) = parse_role(typed) {
            assert_eq!(parse_role(role_code(role)), Some(role));
            assert_eq!(parse_role(&role.label_vi().to_uppercase()), Some(role));
        }
    }

    let user = normalize_username(username);
    assert_eq!(normalize_username(&user), user);
    if check_username(&user).is_ok() {
        assert!(user.is_ascii() && (3..=40).contains(&user.len()));
    }
    if check_username(username).is_ok() {
        assert_eq!(normalize_username(username), username, "a valid username is already normal");
    }
    match check_password(username, password) {
        Ok(()) => {
            assert_eq!(check_password_shape(username, password), Ok(()));
            assert!((MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&password.chars().count()));
            assert!(!is_common_password(password));
        }
        Err(problem) => assert!(!problem.code().is_empty() && !problem.message_en().is_empty()),
    }
});
