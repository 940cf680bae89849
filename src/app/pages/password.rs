//! /account/password (login required): change the password. A plain form, so it works without
//! JavaScript; a refusal comes back as a notice on this page, success as one on /account.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::api::auth::ChangePassword;

use super::Notices;

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    view! {
        <Title text="Change password"/>
        <section class="card narrow">
            <h1>"Change password"</h1>
            <Notices/>
            <form method="post" action=ChangePassword::url()>
                <label for="current">"Current password"</label>
                <input id="current" name="current" type="password" autocomplete="current-password" required/>
                <label for="new">"New password (8 to 128 characters)"</label>
                <input id="new" name="new" type="password" autocomplete="new-password" minlength="8" maxlength="128" required/>
                <button type="submit">"Change password"</button>
            </form>
            <p>"Every other browser logged in to your account is logged out."</p>
            <p><a href="/account">"Back to your account"</a></p>
        </section>
    }
}
