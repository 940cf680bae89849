//! /projects (login required): the user's projects, limited by the plan's `projects` limit. At
//! the limit the create form gives way to an upgrade prompt; the server refuses a create past it
//! either way. Plain forms: the page works without JavaScript.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::projects::{projects_page, CallDemoApi, CreateProject, DeleteProject};
use crate::views::projects::{projects as count_of, ApiCallsView, ProjectView, ProjectsView};

use super::Notices;

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| projects_page());
    view! {
        <Title text="Projects"/>
        <h1>"Projects"</h1>
        <Notices/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                page.get().map(|result| match result {
                    Ok(Some(view)) => view! { <Projects view/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}

#[component]
fn Projects(view: ProjectsView) -> impl IntoView {
    let ProjectsView { plan_name, limit, at_limit, projects, api } = view;
    let used = projects.len();
    let summary = format!("{used} of {} on your {plan_name} plan.", count_of(limit));
    let create = if at_limit {
        view! {
            <div class="banner upgrade" data-upgrade="projects">
                <p>
                    {format!("You have reached your plan's limit of {}. ", count_of(limit))}
                    "Upgrade to create more, or delete one."
                </p>
                <a class="button" href="/pricing">"Upgrade your plan"</a>
            </div>
        }
        .into_any()
    } else {
        view! {
            <form method="post" action=CreateProject::url() class="inline-form">
                <label for="project-name">"Project name"</label>
                <input id="project-name" name="name" type="text" required maxlength="80"/>
                <button type="submit">"Create project"</button>
            </form>
        }
        .into_any()
    };
    let rows = projects.into_iter().map(|project| view! { <ProjectRow project/> }).collect_view();
    view! {
        <section class="card" aria-labelledby="projects-heading">
            <h2 id="projects-heading">"Your projects"</h2>
            <p class="usage" data-used=used.to_string() data-limit=limit.to_string()>{summary}</p>
            {create}
            <ul class="projects">{rows}</ul>
        </section>
        <ApiCalls api/>
    }
}

/// The API-calls half of the demo: a call the plan must include, counted where it is billed.
#[component]
fn ApiCalls(api: ApiCallsView) -> impl IntoView {
    let count = api.metered.map(|m| {
        view! {
            <p class="api-calls" data-used=m.used.to_string() data-included=m.included.to_string()>
                {format!("{} API calls this period; {} of the {} included left.", m.used, m.included_left, m.included)}
            </p>
        }
    });
    let action = if api.allowed {
        view! {
            <form method="post" action=CallDemoApi::url() class="inline-form">
                <button type="submit">"Call the API"</button>
            </form>
        }
        .into_any()
    } else {
        view! {
            <div class="banner upgrade" data-upgrade="api">
                <p>"Your plan does not include the API."</p>
                <a class="button" href="/pricing">"Upgrade your plan"</a>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="api-heading">
            <h2 id="api-heading">"API calls"</h2>
            {count}
            {action}
        </section>
    }
}

#[component]
fn ProjectRow(project: ProjectView) -> impl IntoView {
    view! {
        <li class="project" data-project=project.id.to_string()>
            <span class="project-name">{project.name}</span>
            " "
            <span class="muted">{format!("created {}", project.created_on)}</span>
            <form method="post" action=DeleteProject::url() class="inline-form">
                <input type="hidden" name="id" value=project.id.to_string()/>
                <button type="submit" class="secondary">"Delete"</button>
            </form>
        </li>
    }
}
