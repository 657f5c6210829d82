//! Domain tags: TagResource, UntagResource, ListTagsForResource (and RegisterDomain's
//! `tags`). A resource is named by its domain ARN, which must be this region's and
//! account's; a domain has at most 50 tags (`TooManyTagsFault`).

use super::{fault, missing, req_s, validation, Obj, Res, State};
use crate::swf::arn::DomainArn;
use crate::swf::wire::{Fault, WireError};
use serde_json::{json, Value};

/// Most tags of one domain.
pub(super) const MAX_TAGS: usize = 50;

/// Checks one tag: a key of 1 to 128 characters and a value of at most 256.
pub(super) fn check_tag(key: &str, value: &str) -> Result<(), WireError> {
    let k = key.chars().count();
    if !(1..=128).contains(&k) {
        return Err(validation(format!(
            "1 validation error detected: Value '{key}' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128"
        )));
    }
    if value.chars().count() > 256 {
        return Err(validation(format!(
            "1 validation error detected: Value '{value}' at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"
        )));
    }
    Ok(())
}

/// The `{key, value}` list of a request member (`tags`).
pub(super) fn tag_list(b: &Obj, member: &str) -> Result<Vec<(String, String)>, WireError> {
    let mut out = Vec::new();
    if let Some(list) = b.get(member) {
        let Value::Array(items) = list else {
            return Err(WireError::Serialization(format!(
                "Member `{member}` must be a list"
            )));
        };
        for t in items {
            let key = t
                .get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| missing(&format!("{member}.member.key")))?;
            let value = t.get("value").and_then(Value::as_str).unwrap_or("");
            check_tag(key, value)?;
            out.push((key.to_owned(), value.to_owned()));
        }
    }
    Ok(out)
}

impl State {
    /// The domain a tagging request's `resourceArn` names, if it is one of this
    /// region's and account's.
    fn tagged_domain(&mut self, b: &Obj) -> Result<&mut Vec<(String, String)>, WireError> {
        let arn = req_s(b, "resourceArn")?;
        let unknown = || {
            fault(
                Fault::UnknownResourceFault,
                format!("Unknown resource: {arn}"),
            )
        };
        let parsed = DomainArn::parse(arn).map_err(|_| unknown())?;
        let (p, r, a) = &self.arn_prefix;
        if (&parsed.partition, &parsed.region, &parsed.account) != (p, r, a) {
            return Err(unknown());
        }
        Ok(&mut self.domain_mut(&parsed.domain)?.tags)
    }

    /// TagResource: adds tags, replacing the value of a key already there.
    pub fn tag_resource(&mut self, b: &Obj) -> Res {
        let new = tag_list(b, "tags")?;
        if !b.contains_key("tags") {
            return Err(missing("tags"));
        }
        let tags = self.tagged_domain(b)?;
        let mut merged = tags.clone();
        for (k, v) in new {
            match merged.iter_mut().find(|(x, _)| *x == k) {
                Some(slot) => slot.1 = v,
                None => merged.push((k, v)),
            }
        }
        if merged.len() > MAX_TAGS {
            return Err(fault(
                Fault::TooManyTagsFault,
                format!("A domain can have at most {MAX_TAGS} tags"),
            ));
        }
        *tags = merged;
        Ok(json!({}))
    }

    /// UntagResource: removes the named keys (absent ones are ignored).
    pub fn untag_resource(&mut self, b: &Obj) -> Res {
        let keys: Vec<String> = match b.get("tagKeys") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|k| {
                    k.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| WireError::Serialization("tagKeys are strings".into()))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(WireError::Serialization(
                    "Member `tagKeys` must be a list".into(),
                ))
            }
            None => return Err(missing("tagKeys")),
        };
        let tags = self.tagged_domain(b)?;
        tags.retain(|(k, _)| !keys.contains(k));
        Ok(json!({}))
    }

    /// ListTagsForResource.
    pub fn list_tags_for_resource(&mut self, b: &Obj) -> Res {
        let tags = self.tagged_domain(b)?;
        Ok(json!({
            "tags": tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>()
        }))
    }
}
