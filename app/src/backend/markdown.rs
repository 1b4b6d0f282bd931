//! Comments are Markdown, rendered on the server. Raw HTML in the source is shown as text and
//! only web and mail links are kept, so a comment can't inject markup or scripts.
use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

/// Comments are rendered to every user: an image from another site would tell that site who
/// read the incident and when (a tracking pixel), so only this site's images are shown and
/// others become links to them. `//host/…` (and the `/\host` browsers read the same way) is
/// another site, not a path.
pub fn to_safe_html(source: &str) -> String {
    // Whether each open image was turned into a link, to close it the same way.
    let mut images: Vec<bool> = Vec::new();
    let parser = Parser::new_ext(
        source,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES,
    )
    .map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let local = is_local(&dest_url);
            images.push(!local);
            if local {
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            } else {
                Event::Start(Tag::Link {
                    link_type,
                    dest_url: safe_url(dest_url),
                    title,
                    id,
                })
            }
        }
        Event::End(TagEnd::Image) => {
            if images.pop().unwrap_or(false) {
                Event::End(TagEnd::Link)
            } else {
                Event::End(TagEnd::Image)
            }
        }
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

/// A path or an anchor of this site.
fn is_local(url: &str) -> bool {
    let url = url.trim();
    url.starts_with('#')
        || (url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\"))
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let allowed = ["http://", "https://", "mailto:", "//"]
        .iter()
        .any(|p| lower.starts_with(p))
        || is_local(&url);
    if allowed {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

#[cfg(test)]
mod tests {
    use super::to_safe_html;

    #[test]
    fn markdown_renders_and_html_is_escaped() {
        let html =
            to_safe_html("**billing** down <script>alert(1)</script> [x](javascript:alert(1))");
        assert!(html.contains("<strong>billing</strong>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(to_safe_html("[log](https://taskflow.app/x)")
            .contains(r#"href="https://taskflow.app/x""#));
    }

    #[test]
    fn only_local_images_are_shown_others_are_links() {
        let html = to_safe_html("![pixel](https://tracker.example/p.gif?u=1)");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(r#"<a href="https://tracker.example/p.gif?u=1">pixel</a>"#),
            "{html}"
        );
        for external in ["//tracker.example/p.gif", "/\\tracker.example/p.gif"] {
            let html = to_safe_html(&format!("![p]({external})"));
            assert!(!html.contains("<img"), "{external}: {html}");
        }
        let html = to_safe_html("![graphe](/static/chart.svg)");
        assert!(
            html.contains(r#"<img src="/static/chart.svg" alt="graphe""#),
            "{html}"
        );
        let html = to_safe_html("![x](javascript:alert(1))");
        assert!(
            !html.contains("javascript:") && !html.contains("<img"),
            "{html}"
        );
    }
}
