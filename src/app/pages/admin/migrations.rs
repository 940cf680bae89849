//! `/admin/migrations`: each price migration (`tollgate catalog migrate`) with its progress and
//! its subscribers: when they are told, when they move, and where they stand.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::migrations::admin_migrations;
use crate::views::admin::migrations::{MemberState, PriceMigrationView};

use super::{admin_load, AdminNav};
use crate::app::pages::EmptyState;

#[component]
pub fn MigrationsPage() -> impl IntoView {
    let migrations = Resource::new(|| (), |_| admin_migrations());
    view! {
        <Title text="Price migrations"/>
        {admin_load(migrations, |migrations| view! { <Migrations migrations/> })}
    }
}

#[component]
fn Migrations(migrations: Vec<PriceMigrationView>) -> impl IntoView {
    let empty = migrations.is_empty();
    view! {
        <AdminNav current="/admin/migrations"/>
        <h1>"Price migrations"</h1>
        <p class="admin-muted">
            "Started with " <code>"tollgate catalog migrate --from <lookup key>@<old amount> --to <lookup key> --at <day>"</code>
            ": each subscriber of the old price moves at their first renewal on or after the day, after the notice."
        </p>
        {empty.then(|| view! { <EmptyState title="No price migration yet." hint="Subscribers keep the price they signed up with until you migrate them."/> })}
        {migrations.into_iter().map(|migration| view! { <Migration migration/> }).collect_view()}
    }
}

#[component]
fn Migration(migration: PriceMigrationView) -> impl IntoView {
    let progress = [MemberState::Waiting, MemberState::Notified, MemberState::Moved, MemberState::LeftAlone]
        .map(|state| format!("{}: {}", state.words(), migration.count(state)))
        .join(" · ");
    view! {
        <section class="card" data-migration=migration.id>
            <h2>{format!("{}: {}", migration.lookup_key, migration.change)}</h2>
            <p class="admin-muted">
                {format!(
                    "Not before {}, {} days' notice; started {}.",
                    migration.not_before, migration.notice_days, migration.started
                )}
            </p>
            <p class="migration-progress">{progress}</p>
            <table class="admin-table">
                <thead>
                    <tr><th>"Subscription"</th><th>"Customer"</th><th>"Notice"</th><th>"Moves on"</th><th>"State"</th></tr>
                </thead>
                <tbody>
                    {migration
                        .members
                        .into_iter()
                        .map(|member| {
                            let customer = format!("/admin/customers/{}", member.customer_id);
                            view! {
                                <tr data-state=member.state.words()>
                                    <td><code>{member.subscription_id}</code></td>
                                    <td><a href=customer>{member.email.unwrap_or(member.customer_id)}</a></td>
                                    <td>{member.notice_on}</td>
                                    <td>{member.switch_on}</td>
                                    <td>{member.state.words()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}
