//! Passwords, tokens, and the guard every API route but login, refresh and health sits behind.
//!
//! Compatible with xavyo-idp: HS256 access JWTs (`sub, tid, roles, email, exp, iat, jti`) living 900 s, and
//! opaque single-use refresh tokens living 7 days, stored only as SHA-256 digests.

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use axum::{extract::FromRequestParts, http::request::Parts, http::HeaderMap};
use chrono::{DateTime, Duration, Utc};
use dto::{Audience, Claims, TenantId, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

use crate::{
    store::{self, NewRefreshToken, UserRecord},
    ApiError, AppState, EngineError,
};

/// Seconds an access token lives (xavyo-idp: 900).
pub const ACCESS_TOKEN_TTL_SECS: i64 = 900;
/// The `iss` of the engine's access tokens; a token from anyone else is refused.
pub const TOKEN_ISSUER: &str = "xavyo-console-engine";
/// The `aud` of the engine's access tokens: this provisioning API.
pub const TOKEN_AUDIENCE: &str = "xavyo-provisioning-api";
/// Days a refresh token lives.
pub const REFRESH_TOKEN_TTL_DAYS: i64 = 7;
/// However often a session is refreshed, it ends this many hours after its login (its token family's start).
pub const SESSION_LIFETIME_HOURS: i64 = 12;
/// The header naming the tenant of a request.
pub const TENANT_HEADER: &str = "x-tenant-id";
/// The settings key of the generated signing secret.
const JWT_SECRET_KEY: &str = "jwt_secret";
/// Shortest signing secret accepted from the configuration.
const MIN_SECRET_LEN: usize = 32;

/// A well-formed argon2id hash (default parameters) that no known password matches: verifying against it when
/// the email is unknown makes a failed login take as long whether or not the account exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$CDDBNX8RODN4UUDZvdexH6P0Jd71zA3Au61FyzRFVx0";

/// Hashes a password with argon2id and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, EngineError> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| EngineError::PasswordHash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| EngineError::PasswordHash(e.to_string()))
}

/// True when `password` matches the PHC string `hash` (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checks `password` against the account, or against [`DUMMY_HASH`] when there is none, off the async threads.
pub(crate) async fn check_password(
    password: String,
    user: Option<&UserRecord>,
) -> Result<bool, ApiError> {
    let hash = user.map_or_else(|| DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(format!("password check task: {e}")))?;
    Ok(matches && user.is_some())
}

/// The secret that signs access tokens: the configured one, else the one generated at first start.
pub async fn resolve_jwt_secret(
    pool: &SqlitePool,
    configured: Option<String>,
) -> Result<String, EngineError> {
    if let Some(secret) = configured {
        if secret.len() < MIN_SECRET_LEN {
            return Err(EngineError::Config(format!(
                "the JWT secret must be at least {MIN_SECRET_LEN} characters long"
            )));
        }
        return Ok(secret);
    }
    if let Some(secret) = store::setting(pool, JWT_SECRET_KEY).await? {
        return Ok(secret);
    }
    Ok(store::setting_or_insert(pool, JWT_SECRET_KEY, &random_hex(32)).await?)
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex(&buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest a refresh token is stored and looked up by.
pub fn refresh_token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A new refresh token: the secret to hand out and the row that remembers its digest.
pub(crate) fn new_refresh_token(now: DateTime<Utc>) -> (String, NewRefreshToken) {
    let token = random_hex(32);
    let row = NewRefreshToken {
        id: uuid::Uuid::new_v4(),
        token_hash: refresh_token_hash(&token),
        family_id: uuid::Uuid::new_v4(),
        issued_at: now,
        expires_at: now + Duration::days(REFRESH_TOKEN_TTL_DAYS),
    };
    (token, row)
}

/// Signs and checks access tokens with one HS256 secret.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    /// Keys for this secret.
    pub fn new(secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 30;
        validation.set_issuer(&[TOKEN_ISSUER]);
        validation.set_audience(&[TOKEN_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    /// A signed access token for `user`, issued at `now`.
    pub fn issue(&self, user: &UserRecord, now: DateTime<Utc>) -> Result<String, ApiError> {
        let iat = now.timestamp();
        let claims = Claims {
            sub: user.id,
            tid: user.tenant_id,
            roles: user.roles.clone(),
            email: user.email.clone(),
            exp: iat + ACCESS_TOKEN_TTL_SECS,
            iat,
            jti: Some(uuid::Uuid::new_v4().to_string()),
            iss: Some(TOKEN_ISSUER.to_owned()),
            aud: Audience::one(TOKEN_AUDIENCE),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("signing an access token: {e}")))
    }

    /// The claims of a token this engine signed and that has not expired.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| {
                ApiError::Unauthorized("the access token is invalid or has expired".into())
            })
    }
}

/// The `X-Tenant-ID` header: none when absent, 400 when it is not a uuid.
pub(crate) fn tenant_header(headers: &HeaderMap) -> Result<Option<TenantId>, ApiError> {
    let Some(value) = headers.get(TENANT_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| ApiError::validation("X-Tenant-ID", "X-Tenant-ID must be a tenant uuid"))
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let missing =
        || ApiError::Unauthorized("an `Authorization: Bearer <token>` header is required".into());
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(missing());
    }
    Ok(token)
}

/// An authenticated admin of the tenant named by `X-Tenant-ID`: valid token, same tenant, admin role.
#[derive(Debug, Clone)]
pub struct AdminContext {
    /// The tenant every query of the request is scoped to.
    pub tenant_id: TenantId,
    /// The admin making the request.
    pub user_id: UserId,
    /// The token's claims.
    pub claims: Claims,
}

impl FromRequestParts<AppState> for AdminContext {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let claims = state.tokens().verify(bearer_token(&parts.headers)?)?;
        let tenant = tenant_header(&parts.headers)?
            .ok_or_else(|| ApiError::Unauthorized("an X-Tenant-ID header is required".into()))?;
        if tenant != claims.tid {
            return Err(ApiError::Forbidden(
                "the access token was issued for another tenant".into(),
            ));
        }
        if !claims.is_admin() {
            return Err(ApiError::Forbidden(
                "this needs the admin or super_admin role".into(),
            ));
        }
        Ok(Self {
            tenant_id: tenant,
            user_id: claims.sub,
            claims,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_the_dummy_hash_parses() {
        let hash = hash_password("s3cret").expect("hashes");
        assert!(verify_password("s3cret", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("anything", "not a phc string"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("", DUMMY_HASH));
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_hashed() {
        let now = Utc::now();
        let (a, row_a) = new_refresh_token(now);
        let (b, _) = new_refresh_token(now);
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(row_a.token_hash, refresh_token_hash(&a));
        assert_ne!(row_a.token_hash, a);
        assert_eq!(row_a.expires_at - row_a.issued_at, Duration::days(7));
    }

    #[test]
    fn access_tokens_carry_the_claims_and_reject_tampering() {
        let keys = TokenKeys::new("0123456789abcdef0123456789abcdef");
        let user = UserRecord {
            id: UserId(uuid::Uuid::new_v4()),
            tenant_id: TenantId(uuid::Uuid::new_v4()),
            email: "a@b.c".into(),
            password_hash: String::new(),
            roles: vec!["admin".into()],
            active: true,
        };
        let now = Utc::now();
        let token = keys.issue(&user, now).expect("signs");
        let claims = keys.verify(&token).expect("verifies");
        assert_eq!(
            (claims.sub, claims.tid, claims.exp - claims.iat),
            (user.id, user.tenant_id, 900)
        );
        assert!(claims.is_admin());
        assert!(TokenKeys::new("another secret, also long enough!!")
            .verify(&token)
            .is_err());
        let expired = keys.issue(&user, now - Duration::hours(1)).expect("signs");
        assert!(keys.verify(&expired).is_err());
    }

    #[test]
    fn bearer_and_tenant_headers() {
        let mut headers = HeaderMap::new();
        assert!(bearer_token(&headers).is_err());
        headers.insert("authorization", "Basic abc".parse().expect("header"));
        assert!(bearer_token(&headers).is_err());
        headers.insert("authorization", "bearer abc".parse().expect("header"));
        assert_eq!(bearer_token(&headers).ok(), Some("abc"));
        assert!(matches!(tenant_header(&headers), Ok(None)));
        headers.insert(TENANT_HEADER, "nope".parse().expect("header"));
        assert!(matches!(
            tenant_header(&headers),
            Err(ApiError::Validation { .. })
        ));
    }
}
