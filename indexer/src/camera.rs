//! What took a picture, in the words people search by: the camera's make and model and the lens
//! (EXIF), and whether it is a screenshot or a selfie.

use std::path::Path;

fn text(exif: &exif::Exif, tag: exif::Tag) -> Option<String> {
    let field = exif.get_field(tag, exif::In::PRIMARY)?;
    let value = match &field.value {
        exif::Value::Ascii(parts) => String::from_utf8_lossy(parts.first()?).into_owned(),
        // UserComment: an 8-byte character code, then the text.
        exif::Value::Undefined(bytes, _) => String::from_utf8_lossy(bytes.get(8..)?).into_owned(),
        _ => return None,
    };
    let value = value
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_string();
    (!value.is_empty()).then_some(value)
}

/// What a camera wrote of itself, as text.
#[derive(Debug, Default)]
pub struct Tags {
    pub make: Option<String>,
    pub model: Option<String>,
    pub lens: Option<String>,
    pub comment: Option<String>,
}

impl Tags {
    pub fn from_exif(exif: &exif::Exif) -> Tags {
        Tags {
            make: text(exif, exif::Tag::Make),
            model: text(exif, exif::Tag::Model),
            lens: text(exif, exif::Tag::LensModel),
            comment: text(exif, exif::Tag::UserComment),
        }
    }
}

/// "Apple iPhone 15 Pro, iPhone 15 Pro back camera 6.86mm f/1.78": make and model (the make
/// once, though models often repeat it), then the lens; and "screenshot" or "selfie" when the
/// picture is one.
pub fn describe(exif: Option<&exif::Exif>, path: &Path) -> Option<String> {
    describe_tags(exif.map(Tags::from_exif).unwrap_or_default(), path)
}

pub fn describe_tags(tags: Tags, path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let body = match (tags.make, tags.model) {
        (Some(make), Some(model)) if model.to_lowercase().starts_with(&make.to_lowercase()) => {
            Some(model)
        }
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => make.or(model),
    };
    parts.extend(body);
    // Phones name their front camera in the lens model.
    if tags
        .lens
        .as_deref()
        .is_some_and(|l| l.to_lowercase().contains("front"))
    {
        parts.push("selfie".into());
    }
    parts.extend(tags.lens);
    if tags
        .comment
        .is_some_and(|c| c.eq_ignore_ascii_case("screenshot"))
    {
        parts.push("screenshot".into());
    }
    // Phones and desktops save screenshots by that name, or in a folder of that name.
    let named = |p: &Path| {
        p.components().any(|c| {
            let c = c.as_os_str().to_string_lossy().to_lowercase();
            c.starts_with("screenshot") || c.starts_with("screen shot")
        })
    };
    if !parts.iter().any(|p| p == "screenshot") && named(path) {
        parts.push("screenshot".into());
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screenshots_are_told_by_their_names() {
        assert_eq!(
            describe(None, Path::new("/p/DCIM/Screenshots/IMG_1.png")).as_deref(),
            Some("screenshot")
        );
        assert_eq!(
            describe(None, Path::new("/p/Screen Shot 2023-01-01 at 10.00.00.png")).as_deref(),
            Some("screenshot")
        );
        assert_eq!(describe(None, Path::new("/p/IMG_1.png")), None);
    }
}
