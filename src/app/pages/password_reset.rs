//! /forgot-password (ask for a reset link) and /reset-password?token=… (choose the new
//! password). Plain forms, so they work without JavaScript; each post comes back with a notice.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::password_reset::{RequestPasswordReset, ResetPassword};

use super::Notices;

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    view! {
        <Title text="Forgot your password"/>
        <section class="card narrow">
            <h1>"Forgot your password?"</h1>
            <Notices/>
            <form method="post" action=RequestPasswordReset::url() class="stack">
                <label for="forgot-email">"Email"</label>
                <input id="forgot-email" name="email" type="email" autocomplete="email" required/>
                <button type="submit">"Email me a link"</button>
            </form>
            <p class="aside">"Remembered it? " <a href="/login">"Log in"</a></p>
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <Title text="Choose a new password"/>
        <section class="card narrow">
            <h1>"Choose a new password"</h1>
            <Notices/>
            <form method="post" action=ResetPassword::url() class="stack">
                <input type="hidden" name="token" value=token/>
                <label for="reset-password">"New password (8 to 128 characters)"</label>
                <input
                    id="reset-password"
                    name="password"
                    type="password"
                    autocomplete="new-password"
                    minlength="8"
                    maxlength="128"
                    required
                />
                <button type="submit">"Set password"</button>
            </form>
            <p>"Every browser logged in to your account is logged out."</p>
        </section>
    }
}
