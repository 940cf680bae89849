//! The Leptos application: shell, router, navigation, pages.

mod nav;
mod pages;
mod response;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};

use crate::api::auth::{current_user, Login, Logout, Signup};
use crate::api::brand::site_brand;
use crate::domain::brand::Brand;
use crate::views::{auth::SessionUser, AppError};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
                // After the main stylesheet: the brand's accent overrides the default.
                <link rel="stylesheet" href="/brand.css"/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The operator's brand, provided by [`App`] to the header, footer and pages.
pub type BrandResource = Resource<Result<Brand, AppError>>;

/// The auth actions and the session user, shared by the navigation and the pages.
#[derive(Clone, Copy)]
pub struct Auth {
    pub login: ServerAction<Login>,
    pub signup: ServerAction<Signup>,
    pub logout: ServerAction<Logout>,
    /// Refetched whenever one of the actions completes.
    pub user: Resource<Result<Option<SessionUser>, AppError>>,
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let login = ServerAction::<Login>::new();
    let signup = ServerAction::<Signup>::new();
    let logout = ServerAction::<Logout>::new();
    let user = Resource::new(
        move || (login.version().get(), signup.version().get(), logout.version().get()),
        |_| current_user(),
    );
    provide_context(Auth { login, signup, logout, user });
    // The brand never changes while the app runs: fetched once, rendered on the server, and
    // carried to the browser with the page (no second request, no shift when it hydrates).
    let brand = Resource::new(|| (), |_| site_brand());
    provide_context(brand);
    // `try_get`: the title may be formatted after the page's reactive scope is gone.
    let brand_name =
        move || brand.try_get().flatten().and_then(Result::ok).map_or_else(|| Brand::default().name, |b| b.name);

    // Every route renders completely on the server before responding, so pages work
    // without JavaScript and guards can set the status code or redirect.
    view! {
        <Stylesheet id="leptos" href="/pkg/tollgate.css"/>
        <Title formatter=move |page: String| {
            let name = brand_name();
            if page.is_empty() { name } else { format!("{page} · {name}") }
        }/>
        <Router>
            <nav::SiteHeader/>
            <main class="page">
                <Routes fallback=pages::NotFound>
                    <Route path=StaticSegment("") view=pages::HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("pricing") view=pages::pricing::PricingPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("checkout"), StaticSegment("success")) view=pages::checkout::CheckoutSuccessPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("confirm"), ParamSegment("payment_intent")) view=pages::confirm_payment::ConfirmPaymentPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("buy"), ParamSegment("item")) view=pages::pay::PayItemPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("buy"), ParamSegment("item"), StaticSegment("complete")) view=pages::pay::ItemPaymentDonePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("subscribe"), ParamSegment("plan")) view=pages::pay::SubscribePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("subscribe"), ParamSegment("plan"), StaticSegment("complete")) view=pages::pay::SubscriptionDonePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("card")) view=pages::pay::CardPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("card"), StaticSegment("complete")) view=pages::pay::CardDonePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signup") view=pages::auth::SignupPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view=pages::auth::LoginPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("logout") view=pages::auth::LogoutPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("verify-email") view=pages::verify_email::VerifyEmailPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("forgot-password") view=pages::password_reset::ForgotPasswordPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("reset-password") view=pages::password_reset::ResetPasswordPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("account") view=pages::account::AccountPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("projects") view=pages::projects::ProjectsPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("creator") view=pages::creator::CreatorPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("store") view=pages::store::StorePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("p"), ParamSegment("slug")) view=pages::store::ProductPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("p"), ParamSegment("slug"), StaticSegment("pay")) view=pages::pay::PayProductPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("library") view=pages::library::LibraryPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("plan")) view=pages::change_plan::ChangePlanPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("plan"), StaticSegment("preview")) view=pages::change_plan::PlanPreviewPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("cancel")) view=pages::change_plan::CancelPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("pause")) view=pages::change_plan::PausePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("password")) view=pages::password::ChangePasswordPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("admin") view=pages::admin::revenue::RevenuePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("events")) view=pages::admin::events::EventsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("subscriptions")) view=pages::admin::subscriptions::SubscriptionsListPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("customers"), ParamSegment("id")) view=pages::admin::customer::CustomerPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("customers"), ParamSegment("id"), StaticSegment("plan")) view=pages::admin::customer::PlanChangePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("customers"), ParamSegment("id"), StaticSegment("renewal")) view=pages::admin::customer::RenewalPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("mail")) view=pages::admin::mail::MailPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("migrations")) view=pages::admin::migrations::MigrationsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("dunning")) view=pages::admin::dunning::DunningPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("mail"), StaticSegment("templates")) view=pages::admin::mail_templates::MailTemplatesPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("payments")) view=pages::admin::payments::PaymentsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("payments"), StaticSegment("refund")) view=pages::admin::payments::RefundPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("disputes")) view=pages::admin::payments::DisputesPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("disputes"), ParamSegment("id")) view=pages::admin::dispute::DisputePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("status")) view=pages::admin::status::StatusPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("coupons")) view=pages::admin::coupons::CouponsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("usage")) view=pages::admin::usage::UsagePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("marketplace")) view=pages::admin::marketplace::MarketplacePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("orders")) view=pages::admin::marketplace::orders::OrdersListPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("orders"), ParamSegment("id")) view=pages::admin::order::OrderPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <nav::SiteFooter/>
        </Router>
    }
}
