//! STS's XML answers (awsQuery): results in `<ActionResponse>`, errors in
//! `<ErrorResponse>`, as botocore and the AWS SDKs parse them.

/// STS's XML namespace.
pub const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// `text` escaped for XML character data and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A tree of elements to render.
#[derive(Debug, Clone)]
pub enum Xml {
    /// `<name>text</name>`.
    Text(&'static str, String),
    /// `<name>children</name>`.
    Node(&'static str, Vec<Xml>),
}

impl Xml {
    fn render(&self, out: &mut String) {
        match self {
            Xml::Text(name, text) => {
                out.push_str(&format!("<{name}>{}</{name}>", escape(text)));
            }
            Xml::Node(name, children) => {
                out.push_str(&format!("<{name}>"));
                for c in children {
                    c.render(out);
                }
                out.push_str(&format!("</{name}>"));
            }
        }
    }
}

/// `<{action}Response>` with `<{action}Result>` holding `result`.
pub fn response(action: &str, result: &[Xml], request_id: &str) -> String {
    let mut out = format!("<{action}Response xmlns=\"{NS}\"><{action}Result>");
    for r in result {
        r.render(&mut out);
    }
    out.push_str(&format!(
        "</{action}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        escape(request_id)
    ));
    out
}

/// `<ErrorResponse>` with a `Sender` (or `Receiver`) error.
pub fn error(code: &str, message: &str, sender: bool, request_id: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{NS}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        if sender { "Sender" } else { "Receiver" },
        escape(code),
        escape(message),
        escape(request_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_escapes() {
        let r = response(
            "GetCallerIdentity",
            &[Xml::Text("Arn", "a<b&c".into())],
            "id",
        );
        assert_eq!(r, format!("<GetCallerIdentityResponse xmlns=\"{NS}\"><GetCallerIdentityResult><Arn>a&lt;b&amp;c</Arn></GetCallerIdentityResult><ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></GetCallerIdentityResponse>"));
        assert!(error("AccessDenied", "x \"y\"", true, "i")
            .contains("<Message>x &quot;y&quot;</Message>"));
    }
}
