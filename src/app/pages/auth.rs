//! /signup, /login, /logout. The forms work with and without JavaScript
//! (see `crate::api::auth`).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{api::auth::take_flash, app::Auth, views::auth::AuthForm};

use super::{FormAlert, Notices};

/// The message to show: the last JS submission's error, else the flash left by a
/// refused plain form post. Also the email to fill back in.
fn form_state(
    form: AuthForm,
    action_error: impl Fn() -> Option<Option<String>> + Send + Sync + 'static,
) -> (Signal<String>, Signal<Option<String>>) {
    let flash = Resource::new(|| (), move |_| async move { take_flash(form).await.ok().flatten() });
    let email = Signal::derive(move || flash.get().flatten().map(|f| f.email).unwrap_or_default());
    let message = Signal::derive(move || match action_error() {
        Some(result) => result,
        None => flash.get().flatten().map(|f| f.message),
    });
    (email, message)
}

/// The alert, the labelled email and password fields and the submit button.
#[component]
fn CredentialFields(
    form: AuthForm,
    #[prop(into)] email: Signal<String>,
    #[prop(into)] message: Signal<Option<String>>,
    #[prop(into)] pending: Signal<bool>,
) -> impl IntoView {
    let (prefix, password_autocomplete, button) = match form {
        AuthForm::Signup => ("signup", "new-password", "Sign up"),
        AuthForm::Login => ("login", "current-password", "Log in"),
    };
    let hint_id = format!("{prefix}-password-hint");
    let hint =
        (form == AuthForm::Signup).then(|| view! { <p id=hint_id.clone() class="hint">"8 to 128 characters."</p> });
    view! {
        <FormAlert message=message/>
        <label for=format!("{prefix}-email")>"Email"</label>
        <input
            id=format!("{prefix}-email")
            name="email"
            type="email"
            autocomplete="email"
            value=move || email.get()
        />
        <label for=format!("{prefix}-password")>"Password"</label>
        <input
            id=format!("{prefix}-password")
            name="password"
            type="password"
            autocomplete=password_autocomplete
            aria-describedby=(form == AuthForm::Signup).then_some(hint_id)
        />
        {hint}
        <button type="submit" disabled=move || pending.get()>{button}</button>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = expect_context::<Auth>().signup;
    action.value().set(None);
    let (email, message) =
        form_state(AuthForm::Signup, move || action.value().get().map(|r| r.err().map(|e| e.to_string())));
    view! {
        <Title text="Sign up"/>
        <section class="card narrow">
            <h1>"Create your account"</h1>
            <Suspense fallback=|| ()>
                <ActionForm action=action attr:novalidate=true attr:class="stack">
                    <CredentialFields form=AuthForm::Signup email=email message=message pending=action.pending()/>
                </ActionForm>
            </Suspense>
            <p class="aside">"Already registered? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = expect_context::<Auth>().login;
    action.value().set(None);
    let (email, message) =
        form_state(AuthForm::Login, move || action.value().get().map(|r| r.err().map(|e| e.to_string())));
    view! {
        <Title text="Log in"/>
        <section class="card narrow">
            <h1>"Welcome back"</h1>
            // What sign-up or a password reset said before sending the browser here.
            <Notices/>
            <Suspense fallback=|| ()>
                <ActionForm action=action attr:novalidate=true attr:class="stack">
                    <CredentialFields form=AuthForm::Login email=email message=message pending=action.pending()/>
                </ActionForm>
            </Suspense>
            <p class="aside"><a href="/forgot-password">"Forgot your password?"</a></p>
            <p class="aside">"New here? " <a href="/signup">"Register"</a></p>
        </section>
    }
}

#[component]
pub fn LogoutPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    view! {
        <Title text="Log out"/>
        <section class="card narrow">
            <Suspense fallback=|| ()>
                {move || {
                    auth.user.get().map(|user| match user.ok().flatten() {
                        Some(user) => view! {
                            <h1>"Log out"</h1>
                            <p>"You are signed in as " <strong>{user.email}</strong> "."</p>
                            <ActionForm action=auth.logout>
                                <button type="submit">"Log out"</button>
                            </ActionForm>
                        }
                        .into_any(),
                        None => view! {
                            <h1>"Logged out"</h1>
                            <p>"You are not signed in. " <a href="/login">"Sign in again"</a></p>
                        }
                        .into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}
