//! Account administration as operations shared by the HTTP API (`routes/admin.rs`)
//! and the `danvan-server` commands (`cli.rs`): checking an account's fields
//! against the unit tree and the administrator's reach, enrolment codes, and bulk
//! import from CSV or XLSX (all rows valid, or nothing written).

use std::collections::HashSet;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Duration, Utc};
use danvan_core::account::{
    check_username, normalize_username, parse_role, role_code, AccountInput, EnrolmentCode, ImportResponse, ImportRow,
    ENROLMENT_ALPHABET, ENROLMENT_CODE_LEN, ENROLMENT_VALIDITY_HOURS,
};
use danvan_core::api::Role;
use danvan_core::{OrgUnit, UnitKind, UnitTree};

use crate::auth::hash_token;
use crate::store::{AccountFields, Actor, NewCode, Store, StoreError, User};

/// Most rows one import takes (a province has ~130 accounts; a merged one a few
/// hundred). Beyond, the file is refused as a whole.
pub const MAX_IMPORT_ROWS: usize = 2000;

/// The template's columns, in order, as the header row names them.
pub const IMPORT_COLUMNS: [&str; 6] = ["Tên đăng nhập", "Họ và tên", "Mã đơn vị", "Vai trò", "Điện thoại", "Email"];

/// A new enrolment code and the hash to store.
pub fn new_enrolment_code() -> (String, String) {
    let mut code = String::with_capacity(ENROLMENT_CODE_LEN);
    let n = ENROLMENT_ALPHABET.len() as u32;
    // Rejection sampling: a plain `% 31` of a byte would favour the first letters.
    let limit = u32::MAX - u32::MAX % n;
    while code.len() < ENROLMENT_CODE_LEN {
        let x = OsRng.next_u32();
        if x < limit {
            code.push(char::from(ENROLMENT_ALPHABET[(x % n) as usize]));
        }
    }
    let hash = hash_token(&code);
    (code, hash)
}

pub fn code_expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::hours(ENROLMENT_VALIDITY_HOURS)
}

/// Whether `admin` may manage accounts of `unit_id`: an administrator manages the
/// accounts of its own unit's subtree (the province's administrator: all of them).
pub fn may_manage(tree: &UnitTree, admin: &User, unit_id: &str) -> bool {
    admin.role == Role::Admin && tree.get(unit_id).is_some() && tree.is_within(unit_id, &admin.unit_id)
}

/// A unit by the code an import file gives: its GSO code (communes), its id, or its
/// code from the unit list, compared without surrounding spaces.
pub fn unit_by_code<'t>(tree: &'t UnitTree, code: &str) -> Option<&'t OrgUnit> {
    let code = code.trim();
    if code.is_empty() {
        return None;
    }
    if let Some(u) = tree.get(code) {
        return Some(u);
    }
    // Spreadsheets turn "00001" into 1: compare numeric codes as numbers too.
    let numeric = code.parse::<u64>().ok();
    let same = |u: &&OrgUnit| u.code == code || (numeric.is_some() && u.code.parse::<u64>().ok() == numeric);
    // A code reused after a reform (23284) means the unit that holds it today, else
    // the one that held it last.
    let today = danvan_core::time::vn_date(Utc::now());
    tree.all().iter().filter(same).max_by_key(|u| (u.valid_on(today), u.valid_to))
}

/// Checks one account's fields; every problem, in Vietnamese. `admin` (when the
/// action comes from the API) limits the units to its reach.
pub fn check_fields(tree: &UnitTree, admin: Option<&User>, input: &AccountInput) -> Result<AccountFields, Vec<String>> {
    let mut errors = Vec::new();
    let username = normalize_username(&input.username);
    if let Err(e) = check_username(&username) {
        errors.push(e.to_string());
    }
    let display_name = input.display_name.split_whitespace().collect::<Vec<_>>().join(" ");
    if display_name.is_empty() {
        errors.push("Thiếu họ và tên".into());
    } else if display_name.chars().count() > 100 {
        errors.push("Họ và tên dài quá 100 ký tự".into());
    }
    match tree.get(&input.unit_id) {
        None => errors.push(format!("Không có đơn vị mã {}", input.unit_id)),
        Some(unit) => {
            if let Some(admin) = admin {
                if !may_manage(tree, admin, &unit.id) {
                    errors.push(format!("Bạn không quản lý tài khoản của {}", unit.name));
                }
            }
            if let Some(problem) = role_unit_problem(input.role, unit) {
                errors.push(problem);
            }
        }
    }
    let phone = clean_optional(input.phone.as_deref());
    if let Some(p) = &phone {
        let digits = p.chars().filter(char::is_ascii_digit).count();
        if !(9..=15).contains(&digits) || !p.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c)) {
            errors.push(format!("Số điện thoại không hợp lệ: {p}"));
        }
    }
    let email = clean_optional(input.email.as_deref());
    if let Some(e) = &email {
        let ok = e.len() <= 120
            && e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
            && !e.contains(char::is_whitespace);
        if !ok {
            errors.push(format!("Email không hợp lệ: {e}"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(AccountFields { username, display_name, role: input.role, unit_id: input.unit_id.clone(), phone, email })
}

/// Roles that make no sense at a unit: a commune has nothing below it to review,
/// and only a province-level unit consolidates the province.
fn role_unit_problem(role: Role, unit: &OrgUnit) -> Option<String> {
    match (role, unit.kind) {
        (Role::Reviewer, UnitKind::Commune) => {
            Some(format!("{} là cấp xã: không có đơn vị cấp dưới để thẩm định", unit.name))
        }
        (Role::Aggregator, UnitKind::Commune | UnitKind::District) => {
            Some(format!("Vai trò tổng hợp cấp tỉnh chỉ dành cho đơn vị cấp tỉnh, không phải {}", unit.name))
        }
        _ => None,
    }
}

fn clean_optional(v: Option<&str>) -> Option<String> {
    v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// Creates accounts with their enrolment codes in one transaction. `Err` carries
/// a Vietnamese message (a username taken meanwhile).
pub async fn create(
    store: &Store,
    tree: &UnitTree,
    fields: Vec<AccountFields>,
    actor: &Actor,
    action: &str,
    now: DateTime<Utc>,
) -> Result<Result<Vec<EnrolmentCode>, String>, StoreError> {
    let expires_at = code_expiry(now);
    let with_codes: Vec<(AccountFields, String, String)> = fields
        .into_iter()
        .map(|f| {
            let (code, hash) = new_enrolment_code();
            (f, code, hash)
        })
        .collect();
    let rows: Vec<(AccountFields, String)> = with_codes.iter().map(|(f, _, h)| (f.clone(), h.clone())).collect();
    let ids = match store.create_accounts(&rows, expires_at, actor, action, now).await? {
        Ok(ids) => ids,
        Err(username) => return Ok(Err(format!("Tên đăng nhập {username} đã có"))),
    };
    Ok(Ok(with_codes
        .into_iter()
        .zip(ids)
        .map(|((f, code, _), id)| EnrolmentCode {
            account_id: id,
            unit_name: tree.get(&f.unit_id).map_or_else(|| f.unit_id.clone(), |u| u.name.clone()),
            username: f.username,
            display_name: f.display_name,
            unit_id: f.unit_id,
            role: f.role,
            code,
            expires_at,
        })
        .collect()))
}

/// New codes for existing accounts (a reset when `clear_password`).
pub async fn issue_codes(
    store: &Store,
    tree: &UnitTree,
    users: &[User],
    clear_password: bool,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<EnrolmentCode>, StoreError> {
    let expires_at = code_expiry(now);
    let fresh: Vec<(String, String)> = users.iter().map(|_| new_enrolment_code()).collect();
    let rows: Vec<NewCode<'_>> =
        users.iter().zip(&fresh).map(|(u, (_, hash))| NewCode { user_id: u.id, code_hash: hash, expires_at }).collect();
    store.issue_codes(&rows, clear_password, actor, now).await?;
    Ok(users
        .iter()
        .zip(fresh)
        .map(|(u, (code, _))| EnrolmentCode {
            account_id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            unit_id: u.unit_id.clone(),
            unit_name: tree.get(&u.unit_id).map_or_else(|| u.unit_id.clone(), |x| x.name.clone()),
            role: u.role,
            code,
            expires_at,
        })
        .collect())
}

// ---------------------------------------------------------------------------
// Import files.

/// Reads and checks an import file: every row with its problems. Nothing is
/// written here; `valid` says whether [`create`] may run on the rows.
pub async fn check_import(
    store: &Store,
    tree: &UnitTree,
    admin: Option<&User>,
    bytes: &[u8],
) -> Result<(ImportResponse, Vec<AccountFields>), StoreError> {
    let file = match ImportFile::read(bytes) {
        Ok(file) => file,
        Err(msg) => {
            let refused = ImportResponse {
                rows: Vec::new(),
                file_errors: vec![msg],
                valid: false,
                committed: false,
                codes: Vec::new(),
            };
            return Ok((refused, Vec::new()));
        }
    };
    let taken: HashSet<String> = store.existing_usernames(&file.usernames()).await?.into_iter().collect();
    Ok(file.check(tree, admin, &taken))
}

/// An import file read into rows, before anything is looked up: the part of
/// [`check_import`] that needs no database (fuzz/fuzz_targets/account_import.rs
/// drives it with arbitrary bytes).
#[derive(Clone, Debug)]
pub struct ImportFile {
    /// Each data row with its 0-based position in the file (the header is 0).
    data: Vec<(usize, Vec<String>)>,
    /// Where each of [`IMPORT_COLUMNS`] is (out of range when missing).
    columns: [usize; 6],
}

impl ImportFile {
    /// The file's rows, or why it is refused as a whole (Vietnamese).
    pub fn read(bytes: &[u8]) -> Result<ImportFile, String> {
        let table = crate::tables::read_table(bytes)?;
        let mut lines = table.into_iter().enumerate().filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()));
        let Some((_, header)) = lines.next() else { return Err("Tệp không có dòng nào".into()) };
        let columns = header_columns(&header)?;
        let data: Vec<(usize, Vec<String>)> = lines.collect();
        if data.is_empty() {
            return Err("Tệp chỉ có dòng tiêu đề, chưa có tài khoản nào".into());
        }
        if data.len() > MAX_IMPORT_ROWS {
            return Err(format!("Tệp có {} dòng; mỗi lần nhập tối đa {MAX_IMPORT_ROWS} tài khoản", data.len()));
        }
        Ok(ImportFile { data, columns })
    }

    fn cell(r: &[String], i: Option<usize>) -> String {
        i.and_then(|i| r.get(i)).map(|s| s.trim().to_string()).unwrap_or_default()
    }

    /// The usernames of the rows, as they will be compared with existing ones.
    pub fn usernames(&self) -> Vec<String> {
        self.data.iter().map(|(_, r)| normalize_username(&Self::cell(r, Some(self.columns[0])))).collect()
    }

    /// Every row with its problems against `tree`, the administrator's reach and
    /// the usernames already `taken`; the accounts to create when all are valid.
    pub fn check(
        &self,
        tree: &UnitTree,
        admin: Option<&User>,
        taken: &HashSet<String>,
    ) -> (ImportResponse, Vec<AccountFields>) {
        let (columns, cell) = (self.columns, Self::cell);
        let mut seen: HashSet<String> = HashSet::new();
        let mut rows = Vec::with_capacity(self.data.len());
        let mut fields = Vec::with_capacity(self.data.len());
        for (index, r) in &self.data {
            let username = normalize_username(&cell(r, Some(columns[0])));
            let unit_code = cell(r, Some(columns[2]));
            let role_text = cell(r, Some(columns[3]));
            let unit = unit_by_code(tree, &unit_code);
            let mut errors = Vec::new();
            if unit.is_none() {
                errors.push(if unit_code.is_empty() {
                    "Thiếu mã đơn vị".to_string()
                } else {
                    format!("Không có đơn vị mã {unit_code}")
                });
            }
            let role = parse_role(&role_text);
            if role.is_none() {
                errors.push(if role_text.is_empty() {
                    "Thiếu vai trò".to_string()
                } else {
                    format!("Vai trò không hợp lệ: {role_text} (dùng: Cán bộ báo cáo, Cán bộ thẩm định, Tổng hợp cấp tỉnh, Quản trị)")
                });
            }
            if taken.contains(&username) {
                errors.push(format!("Tên đăng nhập {username} đã có trên hệ thống"));
            } else if !username.is_empty() && !seen.insert(username.clone()) {
                errors.push(format!("Tên đăng nhập {username} bị trùng trong tệp"));
            }
            let input = AccountInput {
                username: username.clone(),
                display_name: cell(r, Some(columns[1])),
                unit_id: unit.map_or_else(String::new, |u| u.id.clone()),
                role: role.unwrap_or(Role::Reporter),
                phone: Some(cell(r, columns[4].into())).filter(|s| !s.is_empty()),
                email: Some(cell(r, columns[5].into())).filter(|s| !s.is_empty()),
            };
            match check_fields(tree, admin, &input) {
                Ok(f) if errors.is_empty() => fields.push(f),
                Ok(_) => {}
                Err(more) => {
                    // The unit's absence is already said once, with the code as typed.
                    errors.extend(more.into_iter().filter(|e| unit.is_some() || !e.starts_with("Không có đơn vị")));
                }
            }
            rows.push(ImportRow {
                line: (*index + 1) as u32,
                username,
                display_name: input.display_name,
                unit_code,
                unit_name: unit.map(|u| u.name.clone()),
                role: role.map_or(role_text, |r| role_code(r).to_string()),
                phone: input.phone,
                email: input.email,
                errors,
            });
        }
        let valid = rows.iter().all(|r| r.errors.is_empty());
        (ImportResponse { rows, file_errors: Vec::new(), valid, committed: false, codes: Vec::new() }, fields)
    }
}

/// Positions of the six columns in the header; names compared without case,
/// diacritics as typed in the template, English names accepted too. Phone and
/// e-mail may be missing (their position is then out of range: empty cells).
fn header_columns(header: &[String]) -> Result<[usize; 6], String> {
    let names: [&[&str]; 6] = [
        &["tên đăng nhập", "username", "ten dang nhap"],
        &["họ và tên", "họ tên", "full name", "name", "ho va ten"],
        &["mã đơn vị", "unit code", "unit", "ma don vi"],
        &["vai trò", "role", "vai tro"],
        &["điện thoại", "số điện thoại", "phone", "dien thoai"],
        &["email", "e-mail", "thư điện tử"],
    ];
    let norm: Vec<String> = header.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase()).collect();
    let mut out = [usize::MAX; 6];
    for (i, accepted) in names.iter().enumerate() {
        match norm.iter().position(|h| accepted.contains(&h.as_str())) {
            Some(p) => out[i] = p,
            None if i >= 4 => {}
            None => {
                return Err(format!(
                    "Dòng đầu phải là tiêu đề cột: {} (thiếu cột \"{}\"); hãy tải tệp mẫu",
                    IMPORT_COLUMNS.join(", "),
                    IMPORT_COLUMNS[i]
                ))
            }
        }
    }
    Ok(out)
}

/// The import template as CSV: the header and two example rows.
pub fn template_csv(tree: &UnitTree) -> String {
    let (commune, district) = example_units(tree);
    let mut out = String::from("\u{feff}");
    out.push_str(&IMPORT_COLUMNS.join(","));
    out.push_str("\r\n");
    out.push_str(&format!("xa.vidu,Nguyễn Văn A,{},Cán bộ báo cáo,0912345678,\r\n", commune));
    out.push_str(&format!("huyen.vidu,Trần Thị B,{},Cán bộ thẩm định,,b@example.gov.vn\r\n", district));
    out
}

/// A commune and a unit with units below it (a district, or the province when
/// there are no districts any more), both open today.
fn example_units(tree: &UnitTree) -> (String, String) {
    let today = danvan_core::time::vn_date(Utc::now());
    let open = || tree.all().iter().filter(move |u| u.valid_on(today));
    let code_of = |kind: UnitKind| open().find(|u| u.kind == kind).map(|u| u.code.clone());
    let commune = code_of(UnitKind::Commune).unwrap_or_default();
    let above = code_of(UnitKind::District).or_else(|| code_of(UnitKind::Province)).unwrap_or_default();
    (commune, above)
}

/// The import template as XLSX: the sheet to fill, then the list of units with
/// their codes and the accepted roles, so nobody has to guess a code.
pub fn template_xlsx(tree: &UnitTree) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let (commune, district) = example_units(tree);
    {
        let sheet = book.add_worksheet().set_name("Tài khoản")?;
        for (c, name) in IMPORT_COLUMNS.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *name, &bold)?;
            sheet.set_column_width(c as u16, [18, 26, 14, 20, 14, 26][c])?;
            // Codes and phone numbers stay text: Excel would drop leading zeros.
            sheet.set_column_format(c as u16, &text)?;
        }
        let examples = [
            ["xa.vidu", "Nguyễn Văn A", commune.as_str(), "Cán bộ báo cáo", "0912345678", ""],
            ["huyen.vidu", "Trần Thị B", district.as_str(), "Cán bộ thẩm định", "", "b@example.gov.vn"],
        ];
        for (r, row) in examples.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                sheet.write_string((r + 1) as u32, c as u16, *v)?;
            }
        }
    }
    {
        let sheet = book.add_worksheet().set_name("Đơn vị")?;
        for (c, name) in ["Mã đơn vị", "Tên đơn vị", "Cấp", "Trực thuộc"].iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *name, &bold)?;
        }
        sheet.set_column_width(0, 16)?;
        sheet.set_column_width(1, 44)?;
        sheet.set_column_width(3, 36)?;
        // Units open today: new accounts are for them.
        let today = danvan_core::time::vn_date(chrono::Utc::now());
        let open = tree.as_of(today);
        for (r, u) in open.in_order().into_iter().enumerate() {
            let r = (r + 1) as u32;
            sheet.write_string(r, 0, &u.code)?;
            sheet.write_string(r, 1, &u.name)?;
            sheet.write_string(r, 2, u.kind_label_vi())?;
            let parent = u.parent.as_deref().and_then(|p| tree.get(p)).map_or("", |p| p.name.as_str());
            sheet.write_string(r, 3, parent)?;
        }
    }
    {
        let sheet = book.add_worksheet().set_name("Vai trò")?;
        sheet.write_string_with_format(0, 0, "Vai trò", &bold)?;
        sheet.write_string_with_format(0, 1, "Việc được làm", &bold)?;
        sheet.set_column_width(0, 22)?;
        sheet.set_column_width(1, 70)?;
        let roles = [
            (Role::Reporter, "Lập và gửi báo cáo của đơn vị mình"),
            (Role::Reviewer, "Lập báo cáo của đơn vị mình; trả lại hoặc tiếp nhận báo cáo của đơn vị cấp dưới"),
            (Role::Aggregator, "Sở Nội vụ: xem, thẩm định và tổng hợp báo cáo toàn tỉnh"),
            (Role::Admin, "Quản trị tài khoản và thiết bị trong phạm vi đơn vị"),
        ];
        for (r, (role, what)) in roles.iter().enumerate() {
            sheet.write_string((r + 1) as u32, 0, role.label_vi())?;
            sheet.write_string((r + 1) as u32, 1, *what)?;
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_alphabet_and_differ() {
        let (a, ha) = new_enrolment_code();
        let (b, _) = new_enrolment_code();
        assert_ne!(a, b);
        assert_eq!(a.len(), ENROLMENT_CODE_LEN);
        assert!(a.bytes().all(|c| ENROLMENT_ALPHABET.contains(&c)));
        assert_eq!(hash_token(&a), ha);
        assert_eq!(danvan_core::account::normalize_enrolment_code(&a), Some(a));
    }

    #[test]
    fn header_in_any_order_phone_and_email_optional() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cols = header_columns(&h(&["Vai trò", "Tên đăng nhập", "Mã đơn vị", "Họ và tên"])).unwrap();
        assert_eq!(&cols[..4], &[1, 3, 2, 0]);
        assert!(cols[4] == usize::MAX && cols[5] == usize::MAX);
        let err = header_columns(&h(&["Tên đăng nhập", "Họ và tên"])).unwrap_err();
        assert!(err.contains("Mã đơn vị"), "{err}");
    }
}
