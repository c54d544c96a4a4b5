//! Compile-time checks: the client, its errors and models cross threads.

use kili::{
    Asset, AssetQuery, Error, GraphQlError, InputType, Kili, KiliBuilder, Label, LabelQuery,
    LabelType, NewAssets, NewLabels, NewProject, Paginated, Project, ProjectQuery, User,
};

fn send_sync<T: Send + Sync>() {}
fn clone<T: Clone>() {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<Kili>();
    clone::<Kili>();
    send_sync::<KiliBuilder>();
    send_sync::<Error>();
    send_sync::<GraphQlError>();
    send_sync::<Label>();
    send_sync::<Asset>();
    send_sync::<Project>();
    send_sync::<User>();
    send_sync::<LabelType>();
    send_sync::<InputType>();
    send_sync::<Paginated<Asset>>();
    send_sync::<NewAssets>();
    send_sync::<NewLabels>();
    send_sync::<NewProject>();
    send_sync::<AssetQuery>();
    send_sync::<LabelQuery>();
    send_sync::<ProjectQuery>();
    // A boxed error must be usable with `?` in threads and anyhow-style handlers.
    let _: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::Closed);
}
