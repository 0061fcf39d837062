//! `danvan-server` account commands, for the first start and for scripts: the same
//! operations as the administrator's screens (`accounts.rs`), audited as `cli`.
//!
//! ```text
//! danvan-server create-admin                 # asks, or DANVAN_ADMIN_* variables
//! danvan-server create-account USERNAME "FULL NAME" UNIT_CODE ROLE [PHONE] [EMAIL]
//! danvan-server list-accounts [UNIT]
//! danvan-server import-accounts FILE         # .csv or .xlsx; prints the codes
//! danvan-server reset-password USERNAME      # prints a new enrolment code
//! danvan-server disable-account USERNAME
//! danvan-server enable-account USERNAME
//! danvan-server sign-out-everywhere USERNAME
//! ```
//!
//! and the catalog commands of `catalog/cli.rs` (unit trees, plans).

use std::io::{BufRead, IsTerminal, Write};

use chrono::Utc;
use danvan_core::account::{
    check_password, enrolment_link, format_enrolment_code, AccountInput, EnrolmentCode, ENROLMENT_VALIDITY_HOURS,
};
use danvan_core::api::Role;
use danvan_core::UnitTree;

use crate::accounts;
use crate::auth::{hash_password, password_work};
use crate::config::Config;
use crate::store::{Actor, DataScope, Store, User};

pub const COMMANDS: &[&str] = &[
    "create-admin",
    "create-account",
    "list-accounts",
    "import-accounts",
    "reset-password",
    "disable-account",
    "enable-account",
    "sign-out-everywhere",
    "import-units",
    "export-units",
    "import-plan",
    "list-plans",
    "move-accounts",
];

type CliResult = Result<(), Box<dyn std::error::Error>>;

/// Opens the database as the server would (migrated, with the shipped data), so
/// `create-admin` works before the server has ever started.
async fn open(config: &Config) -> Result<(Store, UnitTree), Box<dyn std::error::Error>> {
    let store = Store::open(&config.database_url).await?;
    store.ensure_epoch(&crate::auth::random_hex(16)).await?;
    crate::catalog::packages::apply_shipped(&store, Utc::now()).await?;
    let tree = UnitTree::new(store.units().await?)?;
    Ok((store, tree))
}

/// Runs `command` with its arguments. Output for people goes to stdout (Vietnamese);
/// errors come back to `main`.
pub async fn run(config: &Config, command: &str, args: &[String]) -> CliResult {
    let (store, tree) = open(config).await?;
    let result = match command {
        "create-admin" => create_admin(config, &store, &tree).await,
        "create-account" => create_account(&store, &tree, args).await,
        "list-accounts" => list(&store, &tree, args.first().map(String::as_str)).await,
        "import-accounts" => import(&store, &tree, args.first().ok_or("thiếu tên tệp: import-accounts TỆP")?).await,
        "reset-password" => reset(&store, &tree, one_user(args)?).await,
        "disable-account" => set_disabled(&store, one_user(args)?, true).await,
        "enable-account" => set_disabled(&store, one_user(args)?, false).await,
        "sign-out-everywhere" => sign_out(&store, one_user(args)?).await,
        "import-units" | "export-units" | "import-plan" | "list-plans" | "move-accounts" => {
            crate::catalog::cli::run(&store, command, args).await
        }
        other => Err(format!("lệnh không rõ: {other}").into()),
    };
    store.close().await;
    result
}

fn one_user(args: &[String]) -> Result<&str, String> {
    args.first().map(String::as_str).ok_or_else(|| "thiếu tên đăng nhập".to_string())
}

async fn find_user(store: &Store, username: &str) -> Result<User, Box<dyn std::error::Error>> {
    let u = store
        .user_by_username(&danvan_core::account::normalize_username(username))
        .await?
        .ok_or_else(|| format!("không có tài khoản {username}"))?;
    Ok(u.user)
}

fn print_codes(codes: &[EnrolmentCode]) {
    let origin = std::env::var("DANVAN_PUBLIC_URL").ok().filter(|s| !s.trim().is_empty());
    println!("tên đăng nhập,họ và tên,đơn vị,mã kích hoạt,hết hạn (UTC),đường dẫn");
    for c in codes {
        let link = origin.as_deref().map(|o| enrolment_link(o, &c.code)).unwrap_or_default();
        println!(
            "{},{},{},{},{},{}",
            c.username,
            c.display_name,
            c.unit_name,
            format_enrolment_code(&c.code),
            c.expires_at.format("%d/%m/%Y %H:%M"),
            link
        );
    }
    if origin.is_none() {
        eprintln!("(đặt DANVAN_PUBLIC_URL=https://… để in kèm đường dẫn kích hoạt)");
    }
    eprintln!(
        "Mỗi mã dùng được một lần, trong {ENROLMENT_VALIDITY_HOURS} giờ: mở {} trên điện thoại và nhập mã.",
        danvan_core::account::ENROLMENT_PATH
    );
}

/// Reads a line from the terminal (or stdin for scripts), without echo for secrets.
fn prompt(label: &str, secret: bool) -> std::io::Result<String> {
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprint!("{label}: ");
        std::io::stderr().flush()?;
    }
    let hide = secret && interactive;
    if hide {
        let _ = std::process::Command::new("stty").arg("-echo").stdin(std::process::Stdio::inherit()).status();
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if hide {
        let _ = std::process::Command::new("stty").arg("echo").stdin(std::process::Stdio::inherit()).status();
        eprintln!();
    }
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The first administrator: `DANVAN_ADMIN_USERNAME`, `DANVAN_ADMIN_NAME`,
/// `DANVAN_ADMIN_UNIT` (default: the province) and `DANVAN_ADMIN_PASSWORD`, or asked
/// at the terminal. Without a password (a script that sets none) it prints an
/// enrolment code instead.
async fn create_admin(config: &Config, store: &Store, tree: &UnitTree) -> CliResult {
    let interactive = std::io::stdin().is_terminal();
    let ask = |key: &str, label: &str, secret: bool| -> std::io::Result<Option<String>> {
        match env(key) {
            Some(v) => Ok(Some(v)),
            None if interactive => Ok(Some(prompt(label, secret)?).filter(|v| !v.is_empty())),
            None => Ok(None),
        }
    };
    // The province as it is today (after a reform, the new one).
    let today = danvan_core::time::vn_date(Utc::now());
    let root = tree
        .roots_on(today)
        .into_iter()
        .next()
        .or_else(|| tree.all().iter().find(|u| u.parent.is_none()))
        .ok_or("cây đơn vị trống")?;
    let username = ask("DANVAN_ADMIN_USERNAME", "Tên đăng nhập của quản trị viên (vd. quantri)", false)?
        .ok_or("thiếu DANVAN_ADMIN_USERNAME")?;
    let display_name = ask("DANVAN_ADMIN_NAME", "Họ và tên", false)?.unwrap_or_else(|| "Quản trị hệ thống".into());
    let unit_id = env("DANVAN_ADMIN_UNIT").unwrap_or_else(|| root.id.clone());
    let input = AccountInput { username, display_name, unit_id, role: Role::Admin, phone: None, email: None };
    let fields = accounts::check_fields(tree, None, &input).map_err(|e| e.join("; "))?;
    let password = match ask("DANVAN_ADMIN_PASSWORD", "Mật khẩu (ít nhất 8 ký tự)", true)? {
        Some(p) => {
            if interactive && env("DANVAN_ADMIN_PASSWORD").is_none() && prompt("Nhập lại mật khẩu", true)? != p
            {
                return Err("hai lần nhập mật khẩu không khớp".into());
            }
            check_password(&fields.username, &p).map_err(|e| e.to_string())?;
            Some(p)
        }
        None => None,
    };
    let actor = Actor::cli();
    let now = Utc::now();
    let codes = accounts::create(store, tree, vec![fields.clone()], &actor, "admin.create", now)
        .await?
        .map_err(|e| format!("{e}: chọn tên khác, hoặc `danvan-server reset-password {}`", fields.username))?;
    match password {
        Some(p) => {
            let cost = config.password_cost;
            let hash = password_work(move || hash_password(cost, &p)).await??;
            let code = &codes[0];
            let user = find_user(store, &code.username).await?;
            // Uses the code at once, as if enrolled on this machine.
            let code_hash = crate::auth::hash_token(&code.code);
            store.set_password_with_code(&code_hash, &hash, now).await?;
            println!(
                "Đã tạo quản trị viên {} ({}). Đăng nhập bằng mật khẩu vừa đặt.",
                user.username, user.display_name
            );
        }
        None => {
            println!("Đã tạo quản trị viên {}; chưa có mật khẩu. Kích hoạt bằng mã dưới đây:", fields.username);
            print_codes(&codes);
        }
    }
    Ok(())
}

/// One account, as a row of the import file would make it; prints its code.
async fn create_account(store: &Store, tree: &UnitTree, args: &[String]) -> CliResult {
    let [username, name, unit, role, rest @ ..] = args else {
        return Err(
            "cách dùng: create-account TÊN_ĐĂNG_NHẬP \"HỌ VÀ TÊN\" MÃ_ĐƠN_VỊ VAI_TRÒ [ĐIỆN_THOẠI] [EMAIL]".into()
        );
    };
    let unit = accounts::unit_by_code(tree, unit).ok_or_else(|| format!("không có đơn vị mã {unit}"))?;
    let role = danvan_core::account::parse_role(role).ok_or_else(|| {
        format!("vai trò không hợp lệ: {role} (reporter, reviewer, aggregator, admin hoặc tên tiếng Việt)")
    })?;
    let input = AccountInput {
        username: username.clone(),
        display_name: name.clone(),
        unit_id: unit.id.clone(),
        role,
        phone: rest.first().cloned(),
        email: rest.get(1).cloned(),
    };
    let fields = accounts::check_fields(tree, None, &input).map_err(|e| e.join("; "))?;
    let codes = accounts::create(store, tree, vec![fields], &Actor::cli(), "account.create", Utc::now())
        .await?
        .map_err(|e| e.to_string())?;
    print_codes(&codes);
    Ok(())
}

async fn list(store: &Store, tree: &UnitTree, unit: Option<&str>) -> CliResult {
    let scope = match unit {
        None => DataScope::All,
        Some(u) => {
            let unit = accounts::unit_by_code(tree, u).ok_or_else(|| format!("không có đơn vị {u}"))?;
            DataScope::Units(tree.scope(&unit.id).iter().map(|x| x.id.clone()).collect())
        }
    };
    println!("tên đăng nhập,họ và tên,vai trò,đơn vị,trạng thái,thiết bị đang đăng nhập");
    for a in store.accounts(&scope, None, Utc::now()).await? {
        let unit_name = tree.get(&a.unit_id).map_or(a.unit_id.as_str(), |u| u.name.as_str());
        let status = if a.disabled_at.is_some() {
            "đã khoá"
        } else if !a.has_password {
            "chờ kích hoạt"
        } else {
            "đang dùng"
        };
        println!(
            "{},{},{},{},{},{}",
            a.username,
            a.display_name,
            a.role.label_vi(),
            unit_name,
            status,
            a.active_devices
        );
    }
    Ok(())
}

async fn import(store: &Store, tree: &UnitTree, file: &str) -> CliResult {
    let bytes = std::fs::read(file).map_err(|e| format!("không đọc được {file}: {e}"))?;
    let (preview, fields) = accounts::check_import(store, tree, None, &bytes).await?;
    if !preview.valid {
        for e in &preview.file_errors {
            eprintln!("{file}: {e}");
        }
        for r in preview.rows.iter().filter(|r| !r.errors.is_empty()) {
            eprintln!("{file}, dòng {}: {}", r.line, r.errors.join("; "));
        }
        return Err("không nhập tài khoản nào: sửa các dòng trên rồi chạy lại".into());
    }
    let codes = accounts::create(store, tree, fields, &Actor::cli(), "account.import", Utc::now())
        .await?
        .map_err(|e| format!("không nhập tài khoản nào: {e}"))?;
    eprintln!("Đã tạo {} tài khoản.", codes.len());
    print_codes(&codes);
    Ok(())
}

async fn reset(store: &Store, tree: &UnitTree, username: &str) -> CliResult {
    let user = find_user(store, username).await?;
    let codes = accounts::issue_codes(store, tree, &[user], true, &Actor::cli(), Utc::now()).await?;
    println!("Mật khẩu cũ của {username} đã hết hiệu lực.");
    print_codes(&codes);
    Ok(())
}

async fn set_disabled(store: &Store, username: &str, disabled: bool) -> CliResult {
    let user = find_user(store, username).await?;
    let changed = store.set_disabled(user.id, disabled, &Actor::cli(), Utc::now()).await?;
    match (changed, disabled) {
        (true, true) => println!("Đã khoá {username} và đăng xuất mọi thiết bị của tài khoản."),
        (true, false) => println!("Đã mở khoá {username}."),
        (false, true) => println!("{username} đã bị khoá từ trước."),
        (false, false) => println!("{username} không bị khoá."),
    }
    Ok(())
}

async fn sign_out(store: &Store, username: &str) -> CliResult {
    let user = find_user(store, username).await?;
    let ended = store.end_all_devices(user.id, None, "admin", &Actor::cli(), Utc::now()).await?.unwrap_or(0);
    println!("Đã đăng xuất {ended} thiết bị của {username}.");
    Ok(())
}
