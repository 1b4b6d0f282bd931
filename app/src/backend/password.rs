//! argon2id password hashes (PHC strings), computed off the async threads.
use crate::backend::AppError;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use std::sync::OnceLock;

pub async fn hash(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Checks `password` against `phc`; with no hash (unknown account) it still spends the same
/// time on a dummy hash, so that the answer's timing does not tell which accounts exist.
pub async fn verify(password: &str, phc: Option<String>) -> Result<bool, AppError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| dummy_hash().to_owned());
        let parsed = PasswordHash::new(&phc)
            .map_err(|e| AppError::Internal(format!("stored hash unreadable: {e}")))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"no account has this password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let phc = super::hash("correct horse battery").await.unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(super::verify("correct horse battery", Some(phc.clone()))
            .await
            .unwrap());
        assert!(!super::verify("wrong", Some(phc)).await.unwrap());
        assert!(!super::verify("anything", None).await.unwrap());
    }
}
