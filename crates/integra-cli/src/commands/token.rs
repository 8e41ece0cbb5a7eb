//! `integra token`: a new token for the operators' API, and the configuration entry that
//! names its holder and role and keeps only its SHA-256.

use std::process::ExitCode;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::cli::Role;
use crate::output::{Output, print_json};

/// Prints a new token for `name` with `role`, and its entry for `admin.tokens`.
pub(crate) fn token(name: &str, role: Role, out: Output) -> ExitCode {
    // 244 random bits from the operating system's generator (what version 4 UUIDs carry).
    let token = format!(
        "itg_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let role = match role {
        Role::Viewer => "viewer",
        Role::Operator => "operator",
    };
    let entry = json!({
        "name": name,
        "role": role,
        "sha256": hex::encode(Sha256::digest(token.as_bytes())),
    });
    if out.json() {
        print_json(&json!({"token": token, "entry": entry}));
    } else {
        println!("token (give it to {name}; it is not kept anywhere): {token}");
        println!("entry for the listener's \"admin\": {{\"tokens\": [...]}}: {entry}");
    }
    ExitCode::SUCCESS
}
