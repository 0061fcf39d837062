//! Accounts: the rules the administrator's screens, the enrolment page on a phone
//! and the server all apply — usernames, the password policy, enrolment codes and
//! the names of roles in import files. One place, so the phone says exactly what the
//! server would refuse before anything is sent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::Role;

/// Shortest password accepted. Officials type on a phone keyboard; length matters
/// more than symbols (NIST SP 800-63B asks for at least 8 and no composition rules).
pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 128;

/// The password of the demo accounts (README). Never accepted as a real password,
/// so the server can tell a forgotten demo account from a real one by trying only
/// the demo usernames (`danvan-server` refuses to start without `DANVAN_DEMO` while
/// one still accepts it).
pub const DEMO_PASSWORD: &str = "danvan2024";

/// Why a new password is refused. The messages are what the official reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("Mật khẩu phải có ít nhất 8 ký tự")]
    TooShort,
    #[error("Mật khẩu dài quá 128 ký tự")]
    TooLong,
    #[error("Mật khẩu không được giống hoặc chứa tên đăng nhập")]
    ContainsUsername,
    #[error("Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác")]
    Common,
}

impl PasswordProblem {
    pub fn code(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "password_too_short",
            PasswordProblem::TooLong => "password_too_long",
            PasswordProblem::ContainsUsername => "password_contains_username",
            PasswordProblem::Common => "password_common",
        }
    }

    pub fn message_en(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "The password must have at least 8 characters",
            PasswordProblem::TooLong => "The password is longer than 128 characters",
            PasswordProblem::ContainsUsername => "The password must not be or contain the username",
            PasswordProblem::Common => "This password is too common and easy to guess; choose another",
        }
    }
}

/// The checks that need no list: length and the username. Cheap enough to run on
/// every keystroke on the phone.
pub fn check_password_shape(username: &str, password: &str) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_PASSWORD_LEN {
        return Err(PasswordProblem::TooLong);
    }
    let user = username.trim().to_lowercase();
    if !user.is_empty() && password.to_lowercase().contains(&user) {
        return Err(PasswordProblem::ContainsUsername);
    }
    Ok(())
}

/// The whole policy: [`check_password_shape`] and not a common password. The server
/// always runs this; the app may run only the shape check (the list is not worth
/// its bytes on a 2G first load).
pub fn check_password(username: &str, password: &str) -> Result<(), PasswordProblem> {
    check_password_shape(username, password)?;
    if is_common_password(password) {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

/// Whether the password is on the list of passwords attackers try first: the most
/// common ones worldwide, Vietnamese favourites, this product's own names, and
/// keyboard runs — compared case-insensitively, and also with a trailing run of
/// digits or `!`/`@`/`.` removed ("matkhau2024!" is as weak as "matkhau").
pub fn is_common_password(password: &str) -> bool {
    let lower = password.trim().to_lowercase();
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || "!@#.$*_-".contains(c));
    let is_listed = |p: &str| COMMON_PASSWORDS.split_whitespace().any(|c| c == p);
    // A single repeated character, or digits only: "aaaaaaaa", "20242024".
    let first = lower.chars().next();
    let one_char = first.is_some_and(|f| lower.chars().all(|c| c == f));
    let digits_only = lower.chars().all(|c| c.is_ascii_digit());
    one_char || digits_only || is_listed(&lower) || (stem.len() >= 3 && is_listed(stem))
}

/// Lower-case, whitespace separated. Stems (no trailing digits) cover their
/// numbered variants through [`is_common_password`].
const COMMON_PASSWORDS: &str = "
password passw0rd password1 p@ssword p@ssw0rd pass admin administrator root toor guest user login
welcome welcome1 letmein qwerty qwertyuiop qwerty123 qwertyui asdfgh asdfghjkl asdf zxcvbnm zxcvbn
abc abcd abcdef abcdefg abcdefgh abc123 iloveyou monkey dragon master shadow sunshine princess
football baseball superman batman trustno1 whatever freedom hello hello123 starwars loveme
secret changeme default test tester testing demo sample computer internet samsung iphone android
google facebook zalo gmail yahoo matkhau mat_khau matkhaumoi matkhaucuatoi matkhau@ matkhau.
anhyeuem emyeuanh yeuem yeuanh yeuemnhieu toiyeuem anhyeuemnhieu vietnam vietnam1 vietnamvodich
hanoi saigon hochiminh kontum quangngai danang hue haiphong dalat pleiku
danvan dan_van congtacdanvan dan-van ubnd ubndxa ubndtinh ubndhuyen ubndphuong sonoivu noivu
caibang congan quandoi canbo congchuc vienchuc xaphuong phuongxa chutich phochutich bithu
dangcongsan dcsvn hochiminh tổquốc toquoc nhandan dantoc
1q2w3e4r 1q2w3e 1qaz2wsx qazwsx qazwsxedc zaq12wsx 1qazxsw2 q1w2e3r4 a1b2c3d4 a1b2c3 aa123456
asd123 qwe123 qweasd qweasdzxc zxc123 123qwe 123abc abc@123 admin@123 admin123 root123 pass123
password@123 matkhau@123 abcd1234 abcd@1234 aaaaaa1 zxcvbnm1 qwertyu asdfghjk
";

/// Usernames: 3–40 characters of `a-z 0-9 . _ -`, starting with a letter or digit
/// (what officials type on a phone; Vietnamese letters would be typed in several
/// ways and compared wrongly). The app and the server compare lower-cased and
/// trimmed, see [`normalize_username`].
pub fn check_username(username: &str) -> Result<(), &'static str> {
    let u = username;
    if u.len() < 3 || u.len() > 40 {
        return Err("Tên đăng nhập phải dài 3–40 ký tự");
    }
    if !u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
        return Err("Tên đăng nhập chỉ gồm chữ thường không dấu (a–z), chữ số và . _ -");
    }
    if !u.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("Tên đăng nhập phải bắt đầu bằng chữ hoặc số");
    }
    Ok(())
}

/// Phones capitalise the first letter and add stray spaces; usernames are lowercase.
pub fn normalize_username(username: &str) -> String {
    username.trim().to_lowercase()
}

/// Letters of enrolment codes: no 0/O, 1/I/L, so a code read off paper is typed right.
pub const ENROLMENT_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// 12 letters of a 31-letter alphabet: about 59 bits. With the codes' expiry and the
/// server's throttling, guessing one is out of reach.
pub const ENROLMENT_CODE_LEN: usize = 12;
/// How long an enrolment code stays valid: long enough for a printed sheet to travel
/// from the province to a mountain commune over a weekend, short enough that a
/// forgotten sheet soon stops being a key.
pub const ENROLMENT_VALIDITY_HOURS: i64 = 72;

/// The canonical form of a typed code: upper-case, separators and spaces removed,
/// look-alikes mapped (O→0 is not in the alphabet, so O means… nothing: rejected).
/// `None` when it cannot be a code.
pub fn normalize_enrolment_code(typed: &str) -> Option<String> {
    let code: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (code.len() == ENROLMENT_CODE_LEN && code.bytes().all(|b| ENROLMENT_ALPHABET.contains(&b))).then_some(code)
}

/// `ABCD-EFGH-JKMN`: how a code is printed and shown.
pub fn format_enrolment_code(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + 2);
    for (i, c) in code.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// The path of the enrolment page; the code travels in the fragment so it never
/// reaches a proxy's access log or a `Referer` header.
pub const ENROLMENT_PATH: &str = "/kich-hoat";

/// The link printed as a QR code on the enrolment sheet.
pub fn enrolment_link(origin: &str, code: &str) -> String {
    format!("{}{ENROLMENT_PATH}#ma={code}", origin.trim_end_matches('/'))
}

/// The code in an enrolment link's fragment (`#ma=…`), as typed or scanned.
pub fn code_from_fragment(fragment: &str) -> Option<String> {
    let fragment = fragment.trim_start_matches('#');
    fragment.split('&').find_map(|kv| kv.strip_prefix("ma=")).and_then(normalize_enrolment_code)
}

/// Role names accepted in an import file: the API's English names and the
/// Vietnamese labels of the screens, any case, with or without diacritics typed.
pub fn parse_role(text: &str) -> Option<Role> {
    let t = text.trim().to_lowercase();
    let roles = [Role::Reporter, Role::Reviewer, Role::Aggregator, Role::Admin];
    roles
        .into_iter()
        .find(|r| t == role_code(*r) || t == r.label_vi().to_lowercase() || t == r.label_en().to_lowercase())
}

/// The stable English name of a role (API, import files, the database).
pub fn role_code(role: Role) -> &'static str {
    match role {
        Role::Reporter => "reporter",
        Role::Reviewer => "reviewer",
        Role::Aggregator => "aggregator",
        Role::Admin => "admin",
    }
}

// ---------------------------------------------------------------------------
// API shapes.

/// An account as the administrator sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: String,
    pub unit_name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub disabled_at: Option<DateTime<Utc>>,
    /// False until the official has set a password (through an enrolment code).
    pub has_password: bool,
    /// When the newest unused enrolment code expires, if there is one.
    #[serde(default)]
    pub enrolment_expires_at: Option<DateTime<Utc>>,
    /// Devices signed in now.
    pub active_devices: u32,
    #[serde(default)]
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// `GET /api/admin/accounts?unit=&q=`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountsResponse {
    pub accounts: Vec<Account>,
}

/// `POST /api/admin/accounts` (create) and `PUT /api/admin/accounts/{id}` (edit).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountInput {
    /// Trimmed and lower-cased, then 3–40 characters of `a-z 0-9 . _ -` starting
    /// with a letter or digit ([`check_username`]). Ignored by the edit (the
    /// username stays). Problems with any field: 400 `invalid_account` listing them.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{2,39}$"))]
    pub username: String,
    /// 1–100 characters once runs of spaces are collapsed.
    #[cfg_attr(feature = "openapi", schema(pattern = r"\S"))]
    pub display_name: String,
    /// An existing unit the administrator manages, where the role makes sense.
    pub unit_id: String,
    pub role: Role,
    /// 9–15 digits, with only `+ - . ( )` and spaces besides; empty: none.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^(?:[ +\-.()]*(?:[0-9][ +\-.()]*){9,15})?$"))]
    pub phone: Option<String>,
    /// `local@domain.tld`, at most 120 characters; empty: none.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 120, pattern = r"^(?:[^@\s]+@[^.\s]\S*\.\S*)?$"))]
    pub email: Option<String>,
}

/// A fresh one-time enrolment code, shown once (the server keeps only its hash).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentCode {
    pub account_id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: String,
    pub unit_name: String,
    pub role: Role,
    /// Canonical form (no dashes); print with [`format_enrolment_code`].
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// The answer to create, reset, import and "new codes for a unit".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentCodesResponse {
    pub codes: Vec<EnrolmentCode>,
}

/// `POST /api/admin/enrolment-codes`: new codes for these accounts (or for every
/// account of `unit_id` that has not set a password yet).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewCodesRequest {
    #[serde(default)]
    pub account_ids: Vec<i64>,
    #[serde(default)]
    pub unit_id: Option<String>,
}

/// One row of an import file as read, with what is wrong with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportRow {
    /// The row number as the spreadsheet shows it (the header is row 1).
    pub line: u32,
    pub username: String,
    pub display_name: String,
    pub unit_code: String,
    #[serde(default)]
    pub unit_name: Option<String>,
    pub role: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Vietnamese, one per problem; empty when the row is valid.
    pub errors: Vec<String>,
}

/// `POST /api/admin/accounts/import[?commit=1]`: the preview (every row, its errors),
/// and after a commit the enrolment codes of the new accounts. Nothing is written
/// unless every row is valid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportResponse {
    pub rows: Vec<ImportRow>,
    /// Problems with the file itself (not a spreadsheet, no header, empty…).
    #[serde(default)]
    pub file_errors: Vec<String>,
    pub valid: bool,
    pub committed: bool,
    #[serde(default)]
    pub codes: Vec<EnrolmentCode>,
}

/// A signed-in browser (one per sign-in).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    pub id: i64,
    pub account_id: i64,
    /// Made from the browser's user agent ("Chrome trên Android").
    pub name: String,
    #[serde(default)]
    pub app_version: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    #[serde(default)]
    pub last_sync_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    /// Whether this is the device making the request.
    #[serde(default)]
    pub current: bool,
}

/// `GET /api/me/devices`, `GET /api/admin/accounts/{id}/devices`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DevicesResponse {
    pub devices: Vec<Device>,
}

/// `POST /api/auth/enrolment`: what a code is for, before the official chooses a password.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentLookup {
    /// As printed or typed: case, spaces and dashes do not matter. Anything that is
    /// not a live code is a 404 (`enrolment_code_unknown`, `_used`, `_expired`,
    /// `_revoked`).
    pub code: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentInfo {
    pub username: String,
    pub display_name: String,
    pub unit_name: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/auth/enrol`: use the code, set the password, sign this device in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolRequest {
    /// As in [`EnrolmentLookup::code`].
    pub code: String,
    /// 8–128 characters, neither the username nor a common password (400
    /// `password_too_short`, `password_too_long`, `password_contains_username`,
    /// `password_common`).
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 128))]
    pub password: String,
    #[serde(default)]
    pub app_version: Option<String>,
}

/// `POST /api/me/password`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    /// A wrong one is a 400 `wrong_password` (and counts as a failed sign-in).
    pub current_password: String,
    /// Under the policy of [`EnrolRequest::password`].
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 128))]
    pub new_password: String,
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The administrator's username, or `cli` for `danvan-server` commands.
    pub actor: String,
    pub action: String,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// `GET /api/admin/audit?before=&limit=`: newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditResponse {
    pub entries: Vec<AuditEntry>,
}

/// Vietnamese label of an audit action (the log stores the English code).
pub fn audit_action_label(action: &str) -> &str {
    match action {
        "account.create" => "Tạo tài khoản",
        "account.update" => "Sửa tài khoản",
        "account.disable" => "Khoá tài khoản",
        "account.enable" => "Mở khoá tài khoản",
        "account.reset" => "Cấp lại mã kích hoạt",
        "account.sign_out_everywhere" => "Đăng xuất mọi thiết bị",
        "account.import" => "Nhập danh sách tài khoản",
        "account.enrol" => "Kích hoạt tài khoản",
        "account.password" => "Đổi mật khẩu",
        "device.end" => "Đăng xuất một thiết bị",
        "client.revoke" => "Chặn đồng bộ của một điện thoại",
        "admin.create" => "Tạo quản trị viên đầu tiên",
        "login.locked" => "Tạm khoá đăng nhập sau nhiều lần sai",
        "units.import" => "Nhập, sửa cây đơn vị",
        "units.move_accounts" => "Chuyển tài khoản sang đơn vị kế thừa",
        "plan.publish" => "Công bố kế hoạch",
        "plan.draft" => "Lưu bản nháp kế hoạch",
        "plan.copy" => "Sao chép kế hoạch sang năm mới",
        "plan.discard" => "Bỏ bản nháp kế hoạch",
        "implementation_plan.record" => "Ghi kế hoạch triển khai (mục III.1)",
        "model.register" => "Đăng ký mô hình «Dân vận khéo»",
        "model.recognise" => "Công nhận mô hình «Dân vận khéo»",
        "model.commend" => "Khen thưởng mô hình «Dân vận khéo»",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert_eq!(check_password("xa.dakbla", "ngan"), Err(PasswordProblem::TooShort));
        assert_eq!(check_password("xa.dakbla", "1234567"), Err(PasswordProblem::TooShort));
        assert_eq!(check_password("xa.dakbla", &"x".repeat(129)), Err(PasswordProblem::TooLong));
        assert_eq!(check_password("xa.dakbla", "Xa.DakBla2026"), Err(PasswordProblem::ContainsUsername));
        for common in ["password", "Password1", "12345678", "matkhau2024!", "danvan2024", "Qwerty123", "aaaaaaaa"] {
            assert_eq!(check_password("xa.dakbla", common), Err(PasswordProblem::Common), "{common}");
        }
        assert_eq!(check_password("xa.dakbla", "núi Ngọc Linh mùa mưa"), Ok(()));
        assert_eq!(check_password("xa.dakbla", "bonconvoi-7"), Ok(()));
        // Vietnamese letters count as one character each.
        assert_eq!(check_password_shape("u", "đường đi"), Ok(()));
        assert!(is_common_password(DEMO_PASSWORD), "the demo password can never become a real one");
    }

    #[test]
    fn usernames() {
        assert!(check_username("xa.dakbla").is_ok());
        assert!(check_username("nguyen_van-a2").is_ok());
        assert!(check_username("ab").is_err());
        assert!(check_username("Xa.DakBla").is_err());
        assert!(check_username("xã.đăkblà").is_err());
        assert!(check_username(".hidden").is_err());
        assert!(check_username("has space").is_err());
        assert_eq!(normalize_username("  Xa.DakBla "), "xa.dakbla");
    }

    #[test]
    fn enrolment_codes() {
        assert_eq!(normalize_enrolment_code("abcd-efgh-jkmn"), Some("ABCDEFGHJKMN".into()));
        assert_eq!(normalize_enrolment_code(" ABCD EFGH JKMN "), Some("ABCDEFGHJKMN".into()));
        assert_eq!(normalize_enrolment_code("ABCD-EFGH-JKM0"), None, "0 is not in the alphabet");
        assert_eq!(normalize_enrolment_code("ABCD-EFGH"), None);
        assert_eq!(format_enrolment_code("ABCDEFGHJKMN"), "ABCD-EFGH-JKMN");
        let link = enrolment_link("https://danvan.quangngai.gov.vn/", "ABCDEFGHJKMN");
        assert_eq!(link, "https://danvan.quangngai.gov.vn/kich-hoat#ma=ABCDEFGHJKMN");
        assert_eq!(code_from_fragment("#ma=abcdefghjkmn"), Some("ABCDEFGHJKMN".into()));
        assert_eq!(code_from_fragment("#x=1&ma=ABCD-EFGH-JKMN"), Some("ABCDEFGHJKMN".into()));
        assert_eq!(code_from_fragment("#nothing"), None);
    }

    #[test]
    fn roles_from_import_files() {
        assert_eq!(parse_role("reporter"), Some(Role::Reporter));
        assert_eq!(parse_role(" Cán bộ báo cáo "), Some(Role::Reporter));
        assert_eq!(parse_role("CÁN BỘ THẨM ĐỊNH"), Some(Role::Reviewer));
        assert_eq!(parse_role("Administrator"), Some(Role::Admin));
        assert_eq!(parse_role("chủ tịch"), None);
        for r in [Role::Reporter, Role::Reviewer, Role::Aggregator, Role::Admin] {
            assert_eq!(parse_role(role_code(r)), Some(r));
        }
    }
}
