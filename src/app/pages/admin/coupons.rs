//! `/admin/coupons`: every coupon with its promotion codes and how often each was redeemed; the
//! forms to create a coupon, to add a code to one, to deactivate a code and to delete a coupon.
//! Plain forms posting to the server functions; no JavaScript needed.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::api::admin::coupons::{
    admin_coupons, CreateCoupon, CreatePromotionCode, DeactivatePromotionCode, DeleteCoupon,
};
use crate::app::pages::{EmptyState, Notices};
use crate::views::admin::coupons::{CouponLine, CouponsPage as CouponsData, PromotionCodeLine};
use crate::views::format::day;

use super::{admin_load, column_heads, AdminNav};

#[component]
pub fn CouponsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| admin_coupons());
    view! {
        <Title text="Coupons"/>
        <Notices/>
        {admin_load(data, |page| view! { <Coupons page/> })}
    }
    .into_any()
}

#[component]
fn Coupons(page: CouponsData) -> impl IntoView {
    let empty = page.coupons.is_empty();
    let new_coupon =
        view! { <NewCouponForm plans=page.plans.clone() currency=page.currency.clone() token=page.token.clone()/> };
    let currency = page.currency.clone();
    view! {
        <AdminNav current="/admin/coupons"/>
        <h1>"Coupons and promotion codes"</h1>
        {empty.then(|| view! { <EmptyState title="No coupons yet." hint="Create one below, then give it a promotion code customers can enter at Checkout."/> })}
        {page
            .coupons
            .into_iter()
            .map(|coupon| view! { <Coupon coupon currency=currency.clone()/> })
            .collect_view()}
        {new_coupon}
    }
    .into_any()
}

#[component]
fn Coupon(coupon: CouponLine, currency: String) -> impl IntoView {
    let CouponLine { id, name, terms, plans, redeemed, valid, redeem_by, codes, code_token, delete_token } = coupon;
    let heading = match &name {
        Some(name) => format!("{name} ({id})"),
        None => id.clone(),
    };
    let plans = if plans.is_empty() { "every plan".to_string() } else { plans.join(", ") };
    let validity = if valid { "valid" } else { "no longer redeemable" };
    let redeem_by = redeem_by.map(day).unwrap_or_else(|| "no end".to_string());
    // Each coupon's code form has its own input ids.
    let input = |field: &str| format!("code-{id}-{field}");
    let codes = (!codes.is_empty()).then(|| {
        view! {
            <table class="admin-table promotion-codes">
                {column_heads(&["Code", "Redeemed", "Expires", "Restrictions", "State", ""])}
                <tbody>{codes.into_iter().map(code_row).collect_view()}</tbody>
            </table>
        }
    });
    view! {
        <section class="coupon" data-coupon=id.clone()>
            <h2>{heading}</h2>
            <dl class="details">
                <dt>"Terms"</dt>
                <dd class="coupon-terms">{terms}</dd>
                <dt>"Applies to"</dt>
                <dd>{plans}</dd>
                <dt>"Redeemed"</dt>
                <dd class="coupon-redeemed">{redeemed}</dd>
                <dt>"Redeem by"</dt>
                <dd>{redeem_by}</dd>
                <dt>"State"</dt>
                <dd class="coupon-valid">{validity}</dd>
            </dl>
            {codes}
            <form method="post" action=CreatePromotionCode::url() class="stack new-code">
                <input type="hidden" name="coupon" value=id.clone()/>
                <input type="hidden" name="token" value=code_token/>
                <label for=input("code")>"New promotion code"</label>
                <input id=input("code") name="code" required maxlength="32" placeholder="SPRING25"/>
                <label for=input("max")>"Maximum redemptions (optional)"</label>
                <input id=input("max") name="max_redemptions" inputmode="numeric"/>
                <label for=input("expires")>"Expires after (optional)"</label>
                <input id=input("expires") name="expires_on" type="date"/>
                <label for=input("minimum")>{format!("Minimum order in {currency} (optional)")}</label>
                <input id=input("minimum") name="minimum" inputmode="decimal"/>
                <label for=input("first-time")>
                    <input id=input("first-time") type="checkbox" name="first_time" value="on"/>
                    " Only for customers who have never paid"
                </label>
                <button type="submit">"Create promotion code"</button>
            </form>
            <form method="post" action=DeleteCoupon::url()>
                <input type="hidden" name="coupon" value=id.clone()/>
                <input type="hidden" name="token" value=delete_token/>
                <button type="submit" class="danger" aria-label=format!("Delete coupon {id}")>"Delete coupon"</button>
            </form>
        </section>
    }
    .into_any()
}

fn code_row(code: PromotionCodeLine) -> impl IntoView {
    let deactivate = code.active.then(|| {
        let label = format!("Deactivate {}", code.code);
        view! {
            <form method="post" action=DeactivatePromotionCode::url()>
                <input type="hidden" name="promotion_code" value=code.id.clone()/>
                <input type="hidden" name="token" value=code.deactivate_token.clone()/>
                <button type="submit" aria-label=label>"Deactivate"</button>
            </form>
        }
    });
    view! {
        <tr data-promotion-code=code.id.clone()>
            <td><code>{code.code.clone()}</code></td>
            <td class="code-redeemed">{code.redeemed}</td>
            <td>{code.expires_at.map(day).unwrap_or_default()}</td>
            <td>{code.restrictions}</td>
            <td class="code-state">{if code.active { "active" } else { "inactive" }}</td>
            <td>{deactivate}</td>
        </tr>
    }
    .into_any()
}

#[component]
fn NewCouponForm(plans: Vec<(String, String)>, currency: String, token: String) -> impl IntoView {
    view! {
        <h2>"New coupon"</h2>
        <form method="post" action=CreateCoupon::url() class="stack new-coupon">
            <input type="hidden" name="token" value=token/>
            <label for="coupon-name">"Name customers see (optional)"</label>
            <input id="coupon-name" name="name" maxlength="40"/>
            <label for="coupon-percent">"Percent off"</label>
            <input id="coupon-percent" name="percent_off" inputmode="decimal" placeholder="25"/>
            <label for="coupon-amount">{format!("…or amount off in {currency}")}</label>
            <input id="coupon-amount" name="amount_off" inputmode="decimal" placeholder="5.00"/>
            <label for="coupon-duration">"Lasts"</label>
            <select id="coupon-duration" name="duration">
                <option value="once">"The first invoice"</option>
                <option value="repeating">"Some months"</option>
                <option value="forever">"Forever"</option>
            </select>
            <label for="coupon-months">"Months (when it lasts some months)"</label>
            <input id="coupon-months" name="months" inputmode="numeric"/>
            <label for="coupon-max">"Maximum redemptions (optional)"</label>
            <input id="coupon-max" name="max_redemptions" inputmode="numeric"/>
            <label for="coupon-redeem-by">"Redeemable until (optional)"</label>
            <input id="coupon-redeem-by" name="redeem_by" type="date"/>
            <fieldset>
                <legend>"Only for these plans (none ticked: every plan)"</legend>
                {plans
                    .into_iter()
                    .map(|(key, name)| {
                        let (id, label_for) = (format!("coupon-plan-{key}"), format!("coupon-plan-{key}"));
                        view! {
                            <label for=label_for>
                                <input id=id type="checkbox" name="plans[]" value=key/>
                                " "{name}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <button type="submit">"Create coupon"</button>
        </form>
    }
    .into_any()
}
