//! /creator (login required): becoming a creator through Stripe's hosted onboarding, where the
//! account stands (and what Stripe still needs), and Stripe's Express dashboard. Plain forms:
//! the page works without JavaScript.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::marketplace::{creator_page, CreateProduct, OnboardCreator, OpenCreatorDashboard, PublishProduct};
use crate::views::marketplace::{CreatorPageView, CreatorView, ProductCardView};

use super::Notices;

#[component]
pub fn CreatorPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| creator_page());
    view! {
        <Title text="Sell on tollgate"/>
        <h1>"Sell on tollgate"</h1>
        <Notices/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                page.get().map(|result| match result {
                    Ok(Some(CreatorPageView { creator: Some(creator) })) => view! { <Creator creator/> }.into_any(),
                    Ok(Some(CreatorPageView { creator: None })) => view! { <BecomeCreator/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}

#[component]
fn BecomeCreator() -> impl IntoView {
    view! {
        <section class="card" data-creator-state="none">
            <p>
                "Sell digital products to other members. Payments go to your own Stripe account; "
                "the platform keeps a fee on each sale."
            </p>
            <form method="post" action=OnboardCreator::url()>
                <button type="submit">"Become a creator"</button>
            </form>
        </section>
    }
}

#[component]
fn Creator(creator: CreatorView) -> impl IntoView {
    let CreatorView { state, due, products } = creator;
    let status = match state.as_str() {
        "enabled" => "Your Stripe account is ready: you can publish products and get paid.",
        "restricted" => "Stripe needs more before you can sell:",
        _ => "Your Stripe account is not set up yet.",
    };
    let enabled = state == "enabled";
    let due = (!due.is_empty()).then(|| {
        let items = due.into_iter().map(|item| view! { <li>{item}</li> }).collect_view();
        view! { <ul class="requirements-due">{items}</ul> }
    });
    let action = if enabled {
        view! {
            <form method="post" action=OpenCreatorDashboard::url()>
                <button type="submit" class="secondary">"Open Stripe dashboard"</button>
            </form>
        }
        .into_any()
    } else {
        view! {
            <form method="post" action=OnboardCreator::url()>
                <button type="submit">"Continue onboarding"</button>
            </form>
        }
        .into_any()
    };
    view! {
        <section class="card" data-creator-state=state.clone()>
            <h2>"Your Stripe account"</h2>
            <p class="creator-status">{status}</p>
            {due}
            {action}
        </section>
        <Products products/>
    }
}

/// The creator's products (drafts included) and the form for a new one.
#[component]
fn Products(products: Vec<ProductCardView>) -> impl IntoView {
    let rows = products.into_iter().map(|product| view! { <ProductRow product/> }).collect_view();
    view! {
        <section class="card" aria-labelledby="products-heading">
            <h2 id="products-heading">"Your products"</h2>
            <ul class="creator-products">{rows}</ul>
            <h3>"New product"</h3>
            <form method="post" action=CreateProduct::url() class="stacked-form">
                <label for="product-title">"Title"</label>
                <input id="product-title" name="title" type="text" required maxlength="120"/>
                <label for="product-description">"Description"</label>
                <textarea id="product-description" name="description" maxlength="2000"></textarea>
                <label for="product-price">"Price (USD)"</label>
                <input id="product-price" name="price" type="text" inputmode="decimal" required placeholder="12.50"/>
                <label for="product-content">"What buyers get"</label>
                <textarea id="product-content" name="content" required maxlength="20000"></textarea>
                <button type="submit">"Save draft"</button>
            </form>
        </section>
    }
}

#[component]
fn ProductRow(product: ProductCardView) -> impl IntoView {
    let ProductCardView { id, slug, title, price, published, .. } = product;
    let (button, publish) = if published { ("Unpublish", "false") } else { ("Publish", "true") };
    view! {
        <li class="creator-product" data-product=slug.clone() data-published=published.to_string()>
            <span class="product-title">{title}</span>
            " "
            <span class="product-price">{price}</span>
            " "
            <span class="muted">{if published { "on sale" } else { "draft" }}</span>
            <form method="post" action=PublishProduct::url() class="inline-form">
                <input type="hidden" name="id" value=id.to_string()/>
                <input type="hidden" name="publish" value=publish/>
                <button type="submit" class="secondary">{button}</button>
            </form>
        </li>
    }
}
