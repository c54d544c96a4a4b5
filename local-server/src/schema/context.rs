//! What a resolver finds in its context: the store and the server's settings (put there when
//! the schema is built), and the request's user and origin (put there by the transport).

use async_graphql::{Context, Error, ErrorExtensions, Result};

use crate::settings::LabelSettings;
use crate::store::{ServerState, UserRec};

/// The authenticated user of a request, put in its data by the transport.
#[derive(Clone, Debug)]
pub(crate) struct Viewer(pub(crate) UserRec);

/// What the organization's license allows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OrgSettings {
    /// `license.uploadLocalData`.
    pub(crate) upload_local_data: bool,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            upload_local_data: true,
        }
    }
}

/// `http://host:port` of the server as bound: where signed URLs point when a request does not
/// say how the client reached the server.
#[derive(Clone, Debug)]
pub(crate) struct ServerOrigin(pub(crate) String);

/// `http://host:port` as the client reached the server (its `Host` header), put in a request's
/// data by the transport: signed URLs point there, so they work behind a port mapping.
#[derive(Clone, Debug)]
pub(crate) struct RequestOrigin(pub(crate) String);

/// Returns the store.
pub(super) fn state<'a>(ctx: &Context<'a>) -> Result<&'a ServerState> {
    ctx.data::<ServerState>()
}

/// Returns how labels are stamped and ordered.
pub(super) fn label_settings<'a>(ctx: &Context<'a>) -> Result<&'a LabelSettings> {
    ctx.data::<LabelSettings>()
}

/// Returns what the organization's license allows.
pub(super) fn org_settings<'a>(ctx: &Context<'a>) -> Result<&'a OrgSettings> {
    ctx.data::<OrgSettings>()
}

/// Returns where signed URLs point: the request's origin, else the server's.
pub(super) fn request_origin(ctx: &Context<'_>) -> Result<String> {
    if let Some(o) = ctx.data_opt::<RequestOrigin>() {
        return Ok(o.0.clone());
    }
    Ok(ctx.data::<ServerOrigin>()?.0.clone())
}

/// Returns the user of the request's key, or an `UNAUTHENTICATED` error.
pub(super) fn viewer<'a>(ctx: &Context<'a>) -> Result<&'a UserRec> {
    ctx.data::<Viewer>().map(|v| &v.0).map_err(|_| {
        Error::new("[unauthenticated] no valid API key")
            .extend_with(|_, e| e.set("code", "UNAUTHENTICATED"))
    })
}
