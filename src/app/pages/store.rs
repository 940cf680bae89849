//! /store and /p/{slug}: what creators have on sale, for anyone.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use leptos::server_fn::ServerFn;

use crate::api::marketplace::{product_page, store_page, BuyProduct};
use crate::views::marketplace::{ProductCardView, ProductPageView};

#[component]
pub fn StorePage() -> impl IntoView {
    let page = Resource::new(|| (), |_| store_page());
    view! {
        <Title text="Store"/>
        <h1>"Store"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                page.get().map(|result| match result {
                    Ok(store) if store.products.is_empty() => {
                        view! { <p class="muted">"Nothing on sale yet."</p> }.into_any()
                    }
                    Ok(store) => {
                        let cards = store.products.into_iter().map(|product| view! { <ProductCard product/> }).collect_view();
                        view! { <ul class="store">{cards}</ul> }.into_any()
                    }
                    Err(error) => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}

#[component]
fn ProductCard(product: ProductCardView) -> impl IntoView {
    let href = format!("/p/{}", product.slug);
    view! {
        <li class="card product-card" data-product=product.slug.clone()>
            <h2><a href=href>{product.title}</a></h2>
            <p class="product-price">{product.price}</p>
            <p>{product.description}</p>
        </li>
    }
}

#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let page = Resource::new(slug, product_page);
    view! {
        <super::Notices/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                page.get().map(|result| match result {
                    Ok(Some(ProductPageView { product, pay_on_page })) => {
                        let buy_words = format!("Buy for {}", product.price);
                        // The Payment Element's page offers Checkout itself to browsers without
                        // JavaScript.
                        let buy = if pay_on_page {
                            let href = format!("/p/{}/pay", product.slug);
                            view! { <a class="button" href=href>{buy_words}</a> }.into_any()
                        } else {
                            view! {
                                <form method="post" action=BuyProduct::url()>
                                    <input type="hidden" name="slug" value=product.slug.clone()/>
                                    <button type="submit">{buy_words}</button>
                                </form>
                            }
                            .into_any()
                        };
                        view! {
                            <Title text=product.title.clone()/>
                            <article class="card product" data-product=product.slug.clone()>
                                <h1>{product.title}</h1>
                                <p class="product-price">{product.price.clone()}</p>
                                <p>{product.description}</p>
                                {buy}
                            </article>
                        }
                        .into_any()
                    }
                    Ok(None) => view! {
                        <Title text="Not on sale"/>
                        <h1>"Not on sale"</h1>
                        <p>"This product is not on sale. " <a href="/store">"See the store"</a></p>
                    }
                    .into_any(),
                    Err(error) => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}
