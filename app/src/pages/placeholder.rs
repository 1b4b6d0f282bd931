//! Sections whose content later work fills in; the navigation already leads to them.
use crate::i18n::Msg;
use crate::viewer::Viewer;
use leptos::prelude::*;

#[component]
pub fn Placeholder(title: Msg) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    view! {
        <h1>{viewer.t(title)}</h1>
        <p class="muted">{viewer.t(Msg::NothingYet)}</p>
    }
}
