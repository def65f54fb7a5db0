//! The demo credentials handed to the console (the type exists in every build; only a build with the `demo`
//! feature can seed the data they open).

use dto::TenantId;
use uuid::Uuid;

/// "Demo Corp", the tenant the console logs in to. Known to every build, so that one without demo data still
/// recognises a database seeded before the seed marked it (see `store::holds_demo_data`).
pub const DEMO_TENANT: TenantId = TenantId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000d001));

/// The fixed demo credentials (documented in the crate docs; demo data for loopback use).
#[derive(Clone, PartialEq, Eq)]
pub struct DemoLogin {
    /// Demo Corp.
    pub tenant_id: TenantId,
    /// Demo Corp's admin.
    pub email: String,
    /// Its password.
    pub password: String,
    /// Other Corp, for isolation checks.
    pub other_tenant_id: TenantId,
    /// Demo Corp's non-admin (role `user`).
    pub viewer_email: String,
    /// Its password.
    pub viewer_password: String,
}

impl std::fmt::Debug for DemoLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoLogin")
            .field("tenant_id", &self.tenant_id)
            .field("email", &self.email)
            .field("other_tenant_id", &self.other_tenant_id)
            .field("viewer_email", &self.viewer_email)
            .finish_non_exhaustive()
    }
}
