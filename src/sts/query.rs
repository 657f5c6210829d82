//! The awsQuery request form: `application/x-www-form-urlencoded` pairs, decoded
//! strictly (a malformed escape or a repeated name refuses the request).

/// Most parameters a request may carry (STS's largest request, `AssumeRole` with 50 tags,
/// 50 transitive keys and 10 policy ARNs, has under 200).
pub const MAX_PARAMS: usize = 512;

/// A decoded form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

fn decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("`{s}` has a malformed %-escape"))?;
                out.push(hex);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("`{s}` does not decode to UTF-8"))
}

impl Form {
    /// Parses a form body (or a URL query).
    pub fn parse(text: &str) -> Result<Form, String> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in text.split('&').filter(|p| !p.is_empty()) {
            if pairs.len() >= MAX_PARAMS {
                return Err(format!("more than {MAX_PARAMS} parameters"));
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let (k, v) = (decode(k)?, decode(v)?);
            if pairs.iter().any(|(o, _)| *o == k) {
                return Err(format!("parameter `{k}` is given twice"));
            }
            pairs.push((k, v));
        }
        Ok(Form { pairs })
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The members of list `name` (`name.member.1`, `name.member.2`, ...), in order;
    /// a gap or a number out of order refuses the list.
    pub fn list(&self, name: &str) -> Result<Vec<&str>, String> {
        self.indexed(name, "")
    }

    /// The members of a list of structures: for each `name.member.N`, the value of each
    /// field in `fields` (`Tags.member.1.Key`, ...).
    pub fn structs(&self, name: &str, fields: &[&str]) -> Result<Vec<Vec<Option<&str>>>, String> {
        let prefix = format!("{name}.member.");
        let mut max = 0usize;
        for (k, _) in &self.pairs {
            if let Some(rest) = k.strip_prefix(&prefix) {
                let (n, field) = rest
                    .split_once('.')
                    .ok_or_else(|| format!("`{k}` names no field"))?;
                if !fields.contains(&field) {
                    return Err(format!("`{k}`: unknown field `{field}`"));
                }
                let n: usize = n
                    .parse()
                    .map_err(|_| format!("`{k}`: `{n}` is not an index"))?;
                if n == 0 {
                    return Err(format!("`{k}`: list indexes start at 1"));
                }
                max = max.max(n);
            }
        }
        if max > MAX_PARAMS {
            return Err(format!("`{name}` has too many members"));
        }
        let mut out = Vec::with_capacity(max);
        for n in 1..=max {
            let row: Vec<Option<&str>> = fields
                .iter()
                .map(|f| self.get(&format!("{prefix}{n}.{f}")))
                .collect();
            if row.iter().all(Option::is_none) {
                return Err(format!(
                    "`{prefix}{n}` is missing (list members are numbered 1, 2, ...)"
                ));
            }
            out.push(row);
        }
        Ok(out)
    }

    fn indexed(&self, name: &str, suffix: &str) -> Result<Vec<&str>, String> {
        let prefix = format!("{name}.member.");
        let mut found: Vec<(usize, &str)> = Vec::new();
        for (k, v) in &self.pairs {
            if let Some(rest) = k.strip_prefix(&prefix) {
                let n = rest.strip_suffix(suffix).unwrap_or(rest);
                let n: usize = n
                    .parse()
                    .map_err(|_| format!("`{k}`: `{n}` is not an index"))?;
                found.push((n, v));
            }
        }
        found.sort_by_key(|(n, _)| *n);
        for (i, (n, _)) in found.iter().enumerate() {
            if *n != i + 1 {
                return Err(format!(
                    "`{prefix}{}` is missing (list members are numbered 1, 2, ...)",
                    i + 1
                ));
            }
        }
        Ok(found.into_iter().map(|(_, v)| v).collect())
    }

    /// The parameter names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_strictly() {
        let f = Form::parse("Action=AssumeRole&RoleSessionName=a%2Bb+c&Tags.member.1.Key=team&Tags.member.1.Value=orders&PolicyArns.member.1.arn=x").unwrap();
        assert_eq!(f.get("Action"), Some("AssumeRole"));
        assert_eq!(f.get("RoleSessionName"), Some("a+b c"));
        assert_eq!(
            f.structs("Tags", &["Key", "Value"]).unwrap(),
            vec![vec![Some("team"), Some("orders")]]
        );
        assert!(Form::parse("a=1&a=2").is_err());
        assert!(Form::parse("a=%zz").is_err());
        assert!(Form::parse("a=%FF").is_err());
        let f = Form::parse("L.member.2=b&L.member.1=a").unwrap();
        assert_eq!(f.list("L").unwrap(), ["a", "b"]);
        assert!(Form::parse("L.member.2=b").unwrap().list("L").is_err());
        assert!(Form::parse("Tags.member.2.Key=b")
            .unwrap()
            .structs("Tags", &["Key", "Value"])
            .is_err());
        assert!(Form::parse("Tags.member.1.Kay=b")
            .unwrap()
            .structs("Tags", &["Key", "Value"])
            .is_err());
    }
}
